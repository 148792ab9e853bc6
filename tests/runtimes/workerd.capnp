# The conformance test's workerd: the example Worker (examples/workers/worker.js, the OpenAI-compatible
# handler) on socket "http" and the saved-session Worker (session-worker.js) on socket "session", both with
# the workers bundle as 'sparq-wasm' and a read-only disk service as ASSETS (the folder given with
# --directory-path assets=...). tests/runtimes/workerd.mjs binds both sockets to free ports.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .example),
    (name = "session", worker = .session),
    (name = "assets", disk = (path = "models", writable = false)),
  ],
  sockets = [
    (name = "http", address = "127.0.0.1:8787", http = (), service = "main"),
    (name = "session", address = "127.0.0.1:8788", http = (), service = "session"),
  ],
);

const example :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "../../examples/workers/worker.js"),
    (name = "sparq-wasm", esModule = embed "../../dist/bundles/workers/index.js"),
    (name = "sparq.wasm", wasm = embed "../../dist/bundles/workers/sparq.wasm"),
  ],
  bindings = [ (name = "ASSETS", service = "assets") ],
  compatibilityDate = "2026-11-01",
);

const session :Workerd.Worker = (
  modules = [
    (name = "session-worker.js", esModule = embed "session-worker.js"),
    (name = "case.mjs", esModule = embed "case.mjs"),
    (name = "sparq-wasm", esModule = embed "../../dist/bundles/workers/index.js"),
    (name = "sparq.wasm", wasm = embed "../../dist/bundles/workers/sparq.wasm"),
  ],
  bindings = [ (name = "ASSETS", service = "assets") ],
  compatibilityDate = "2026-11-01",
);
