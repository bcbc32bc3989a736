//! The builder on small files: parameters, flags, initial potentials, the built-in
//! files' consistency with `NAMES` and `PLASTIC`, and the README's example.

use super::*;

fn built(text: &str, o: &Options) -> Result<Built, String> {
    build::build(
        &Source {
            origin: "t.toml",
            text,
            dir: None,
        },
        o,
    )
}

const BASE: &str = r#"
name = "t"
[parameters]
a = "2 * b"
b = { value = 3, unit = "Hz", flag = "input-rate" }
[[inputs]]
name = "P"
size = 10
rate = "a"
"#;

#[test]
fn parameters_refer_to_each_other_in_any_order_and_flags_replace_them() {
    let b = built(BASE, &Options::default()).unwrap();
    let rate = |b: &Built| match b.net.populations[0].model {
        sim_core::model::NeuronModel::Poisson(p) => p.rate,
        _ => unreachable!(),
    };
    assert_eq!(rate(&b), 6.0);
    assert_eq!(b.parameters["input_rate_hz"], 3.0);
    assert_eq!(b.initial_v, "uniform");
    let mut o = Options::default();
    o.overrides.input_rate = Some(4.0);
    let b = built(BASE, &o).unwrap();
    assert_eq!((rate(&b), b.parameters["input_rate_hz"]), (8.0, 4.0));
}

#[test]
fn parameter_mistakes_name_the_parameter() {
    let o = Options::default();
    for (from, to, expected) in [
        (
            "a = \"2 * b\"",
            "a = \"2 * a\"",
            "parameters.a: refers to itself (a -> a)",
        ),
        ("a = \"2 * b\"", "ms = 1", "parameters.ms: 'ms' is a unit"),
        ("a = \"2 * b\"", "2a = 1", "parameters.2a: expected a name"),
        (
            "unit = \"Hz\"",
            "unit = \"Hertz\"",
            "parameters.b.unit = \"Hertz\"",
        ),
        (
            "value = 3,",
            "value = \"3 ms\",",
            "parameters.b.value = \"3 ms\": a time",
        ),
        (
            "flag = \"input-rate\"",
            "flag = \"priming\"",
            "--priming sets [plastic]",
        ),
    ] {
        let text = BASE.replace(from, to);
        let e = built(&text, &o).unwrap_err();
        assert!(
            e.starts_with("t.toml: ") && e.contains(expected),
            "{to}: {e}"
        );
    }
    // A plastic parameter is not seen outside [plastic]; a flag binds once.
    let text = BASE.replace("[[inputs]]", "[plastic.parameters]\nc = 1\n[[inputs]]");
    let e = built(&text.replace("rate = \"a\"", "rate = \"c * 1 Hz\""), &o).unwrap_err();
    assert!(
        e.contains("inputs[0].rate") && e.contains("only inside [plastic]"),
        "{e}"
    );
    let text = BASE.replace("a = \"2 * b\"", "a = { value = 2, flag = \"input-rate\" }");
    let e = built(&text, &o).unwrap_err();
    assert!(e.contains("already bound to parameters."), "{e}");
}

#[test]
fn flags_apply_only_where_the_file_binds_them() {
    let mut o = Options::default();
    o.overrides.w_exc = Some(1.0);
    let e = built(BASE, &o).unwrap_err();
    assert!(
        e.contains("--w-exc: network 't'") && e.contains("binds --input-rate"),
        "{e}"
    );
    assert!(
        e.contains("built-in networks with one: va, brunel, zenke25k"),
        "{e}"
    );
    let o = Options {
        plastic: Some(Traces::Continuous),
        ..Options::default()
    };
    let e = built(BASE, &o).unwrap_err();
    assert!(
        e.contains("no plastic variant") && e.contains("t.toml"),
        "{e}"
    );
}

#[test]
fn initial_potentials_follow_init_v() {
    let rest = Options {
        init_v: InitV::Rest,
        ..Options::default()
    };
    assert_eq!(initial_v_label("zenke25k", InitV::Uniform), "normal");
    assert_eq!(initial_v_label("va", InitV::Uniform), "uniform");
    assert_eq!(initial_v_label("poisson", InitV::Uniform), "uniform");
    assert_eq!(initial_v_label("brunel", InitV::Rest), "rest");
    let va = by_name("va", &rest).unwrap();
    assert!(va
        .net
        .populations
        .iter()
        .all(|p| p.initial_v == sim_core::InitialV::Fixed(-60e-3)));
    let text = built_in("va").unwrap().replace(
        "rest = \"-60 mV\"",
        "rest = \"-60 mV\"\nnormal = [\"-60 mV\", \"1 mV\"]",
    );
    let e = built(&text, &Options::default()).unwrap_err();
    assert!(e.contains("initial_v: both uniform and normal"), "{e}");
}

/// `NAMES` and `PLASTIC` say what the embedded files say; each file is named as its
/// network and describes itself.
#[test]
fn the_built_in_files_are_the_named_networks() {
    let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, NAMES);
    let mut plastic = Vec::new();
    for (name, text) in BUILT_IN {
        let src = Source {
            origin: name,
            text,
            dir: None,
        };
        let file = build::parse(&src).unwrap();
        assert_eq!(file.name, name);
        assert!(!file.description.is_empty());
        if file.plastic.is_some() {
            plastic.push(name);
        }
        let o = Options {
            plastic: file.plastic.as_ref().map(|_| Traces::EventBased),
            ..Options::default()
        };
        by_name(name, &o).unwrap();
    }
    assert_eq!(plastic, PLASTIC);
    assert_eq!(default_priming_s("zenke25k"), 30.0);
    assert_eq!(default_priming_s("brunel"), 0.0);
    assert!(show(None).unwrap().contains("zenke25k"));
}

/// The example of README's "Network files" builds, static and plastic.
#[test]
fn the_readme_example_builds() {
    let readme = include_str!("../../../README.md");
    let start = readme.find("```toml\nname = \"two\"").expect("the example") + 8;
    let text = &readme[start..start + readme[start..].find("```").unwrap()];
    let b = built(text, &Options::default()).unwrap();
    assert_eq!(b.net.neuron_count(), 1100);
    let o = Options {
        plastic: Some(Traces::Continuous),
        ..Options::default()
    };
    let b = built(text, &o).unwrap();
    assert!(b.net.connections[1].plasticity.is_some());
    assert_eq!((b.priming_s, b.parameters["learning_rate"]), (1.0, 0.01));
}
