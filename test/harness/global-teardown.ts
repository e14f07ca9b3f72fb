export default async function globalTeardown(): Promise<void> {
  const temporal = (globalThis as { __closeloopTemporal?: { stop(): Promise<void> } }).__closeloopTemporal;
  await temporal?.stop();
}
