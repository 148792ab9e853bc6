// A .wasm import in a Workers bundle evaluates to the compiled module (wrangler and workerd supply it).
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
