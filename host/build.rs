//! Generates the Open Vector Format types from the `.proto` files in `proto/` with
//! `prost-build`, fed by `protox` (a pure-Rust protobuf compiler, so no `protoc` binary is
//! needed to build meltline).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/open_vector_format.proto", "proto/ovf_lut.proto"];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let descriptors = protox::compile(protos, ["proto"])?;
    // Ordered maps, so the same job always encodes to the same bytes.
    prost_build::Config::new()
        .btree_map(["."])
        .compile_fds(descriptors)?;
    Ok(())
}
