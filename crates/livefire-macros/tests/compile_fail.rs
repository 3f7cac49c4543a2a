//! Compile-fail tests of `html!`'s diagnostics: each file in `tests/ui` must fail to compile
//! with exactly the error in its `.stderr` file (`TRYBUILD=overwrite` regenerates them after a
//! deliberate change of wording or of the compiler).

#[test]
fn html_diagnostics() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
