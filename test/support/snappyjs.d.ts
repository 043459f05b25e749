// snappyjs ships no types; the one call the remote-write test writer makes.
declare module 'snappyjs' {
  const SnappyJS: { compress(input: Uint8Array): Uint8Array };
  export default SnappyJS;
}
