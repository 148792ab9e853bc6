# Runs examples/workers/worker.js in workerd (the Workers runtime), as the conformance test does:
#   node tools/build.mjs && node tools/bundle.mjs
#   npx workerd serve examples/workers/workerd.capnp --directory-path assets=$PWD/models
#   curl -N http://127.0.0.1:8787/v1/completions -d '{"model":"default","prompt":"Once upon a time","max_tokens":32,"stream":true}'
# The bare import 'sparq-wasm' is the workers bundle, given to workerd under that module name; its
# `import ... from './sparq.wasm'` is the compiled kernel module. The ASSETS binding is a read-only disk
# service standing in for Workers static assets (--directory-path points it at the folder of .gguf files).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "assets", disk = (path = "models", writable = false)),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "worker.js"),
    (name = "sparq-wasm", esModule = embed "../../dist/bundles/workers/index.js"),
    (name = "sparq.wasm", wasm = embed "../../dist/bundles/workers/sparq.wasm"),
  ],
  bindings = [ (name = "ASSETS", service = "assets") ],
  compatibilityDate = "2026-11-01",
);
