fn main() {
    std::process::exit(ims::cli::main());
}
