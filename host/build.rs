//! Generates the Open Vector Format types from the `.proto` files in `proto/` with
//! `prost-build`, fed by `protox` (a pure-Rust protobuf compiler, so no `protoc` binary is
//! needed to build meltline).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/open_vector_format.proto", "proto/ovf_lut.proto"];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let descriptors = protox::compile(protos, ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
