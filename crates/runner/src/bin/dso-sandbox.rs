//! The sandbox trampoline as a stand-alone program (see `dso_runner::sandbox`).

fn main() {
    dso_runner::trampoline_main()
}
