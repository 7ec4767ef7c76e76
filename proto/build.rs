//! Generates the tonic/prost code for the `.proto` files under `proto/` with `protoc` (Debian's
//! `protobuf-compiler`; `PROTOC` may point at another one). Clients and servers are generated for
//! both APIs; no transport helpers (`connect`), so this crate stays free of any network stack.

fn main() -> std::io::Result<()> {
    let protos = ["k8s/deviceplugin/v1beta1/api.proto", "tidepool/agent/v1/agent.proto"];
    tonic_prost_build::configure().build_transport(false).compile_protos(&protos, &["."])
}
