export default async function globalTeardown(): Promise<void> {
  const stops = (globalThis as { __closeloopStops?: (() => Promise<void>)[] }).__closeloopStops ?? [];
  for (const stop of stops.reverse()) await stop();
}
