export default {
  /**
   * The kernel tests of the relaxed-SIMD module (asconfig: as-pect.relaxed.asconfig.json): the specs whose
   * kernels have a relaxed path. Run by `npm run test:kernels:relaxed` under a Node that runs relaxed SIMD
   * correctly (Node 20: --experimental-wasm-relaxed-simd with the optimising compiler only, --no-liftoff).
   */
  entries: ["tests/kernels/x4.spec.ts"],
  /**
   * A set of globs passed to the glob package that quality files to be added to each test.
   */
  include: ["tests/kernels/**/*.include.ts"],
  /**
   * A set of regexp that will disclude source files from testing.
   */
  disclude: [/node_modules/],
  /**
   * Add your required AssemblyScript imports here.
   */
  async instantiate(memory, createImports, instantiate, binary) {
    let instance; // Imports can reference this
    const myImports = {
      env: { memory }
      // put your web assembly imports here, and return the module promise
    };
    instance = instantiate(binary, createImports(myImports));
    return instance;
  },
  /** Enable code coverage. */
  // coverage: ["assembly/**/*.ts"],
  /**
   * Specify if the binary wasm file should be written to the file system.
   */
  outputBinary: false,
};
