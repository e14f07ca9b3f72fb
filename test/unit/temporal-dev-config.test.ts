import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config';
import {
  loadTemporalDevConfig,
  parseTemporalDevConfig,
  searchAttributeKeys,
  startDevArgs,
  TEMPORAL_DEV_YAML,
} from '../../config/temporal-dev';
import { cacheDir, ensureTemporalCli } from '../../scripts/lib/temporal-cli';

describe('temporal-dev.yaml', () => {
  test('the real file loads and becomes start-dev flags with every search attribute and dynamic config value', () => {
    const config = loadTemporalDevConfig();
    const args = startDevArgs(config);
    expect(args.slice(0, 2)).toEqual(['server', 'start-dev']);
    expect(args).toEqual(
      expect.arrayContaining([
        '--namespace',
        'closeloop',
        '--port',
        '7233',
        '--ui-port',
        '8233',
        '--log-level',
        'warn',
      ]),
    );
    for (const [name, type] of Object.entries(config.searchAttributes))
      expect(args).toContain(`${name}=${type}`);
    expect(args).toContain('frontend.enableUpdateWorkflowExecution=true');
    expect(args[args.indexOf('--db-filename') + 1]).toMatch(/\.data\/temporal\/dev\.sqlite$/);
    expect(searchAttributeKeys(config).map((k) => k.name)).toEqual(Object.keys(config.searchAttributes));
  });

  test('tests run headless, in memory, on their own port', () => {
    const args = startDevArgs(loadTemporalDevConfig(), { port: 40000, headless: true, dbFilename: null });
    expect(args).toEqual(expect.arrayContaining(['--port', '40000', '--headless']));
    expect(args).not.toContain('--ui-port');
    expect(args).not.toContain('--db-filename');
  });

  test('an invalid file is refused with the offending fields named', () => {
    const yaml =
      'cli: { version: latest }\nserver: { namespace: x, port: "7233", uiPort: 8233 }\nsearchAttributes: { LegalEntity: String }\n';
    expect(() => parseTemporalDevConfig(yaml)).toThrow(
      /cli\.version[\s\S]*server\.port[\s\S]*searchAttributes\.LegalEntity/,
    );
  });
});

describe('Temporal CLI provisioning', () => {
  const saved = process.env.TEMPORAL_CLI_PATH;
  afterEach(() => {
    if (saved === undefined) delete process.env.TEMPORAL_CLI_PATH;
    else process.env.TEMPORAL_CLI_PATH = saved;
  });

  test('a TEMPORAL_CLI_PATH that is not an executable is refused by name, not silently replaced', async () => {
    process.env.TEMPORAL_CLI_PATH = '/nonexistent/temporal';
    await expect(ensureTemporalCli()).rejects.toThrow(
      'TEMPORAL_CLI_PATH=/nonexistent/temporal is not an executable file',
    );
  });

  test('the cache lives outside the clone, per version', () => {
    expect(cacheDir('v1.5.1')).toMatch(/closeloop\/temporal\/v1\.5\.1$/);
    expect(cacheDir('v1.5.1').startsWith(process.cwd())).toBe(false);
  });
});

describe('everything that talks to the dev server takes its address from temporal-dev.yaml', () => {
  const moved = (port: number, uiPort: number) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'closeloop-yaml-'));
    const file = path.join(dir, 'temporal-dev.yaml');
    writeFileSync(
      file,
      readFileSync(TEMPORAL_DEV_YAML, 'utf8')
        .replace(/^(\s+port:) \d+$/m, `$1 ${port}`)
        .replace(/^(\s+uiPort:) \d+$/m, `$1 ${uiPort}`),
    );
    return file;
  };

  test('moving the port in the file moves the address the API, the worker and the launcher dial', () => {
    const file = moved(7561, 8561);
    const config = loadConfig({ TEMPORAL_DEV_CONFIG: file });
    expect(config.temporal).toMatchObject({
      devServer: true,
      address: '127.0.0.1:7561',
      namespace: 'closeloop',
      uiUrl: 'http://127.0.0.1:8561',
    });
    expect(startDevArgs(loadTemporalDevConfig(config.temporal.devConfigPath))).toEqual(
      expect.arrayContaining(['--port', '7561', '--ui-port', '8561']),
    );
  });

  test('TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE still win, for a real cluster', () => {
    const config = loadConfig({
      TEMPORAL_DEV_CONFIG: moved(7561, 8561),
      TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'my-ns.a1b2c',
    });
    expect(config.temporal).toMatchObject({
      devServer: false,
      address: 'my-ns.a1b2c.tmprl.cloud:7233',
      namespace: 'my-ns.a1b2c',
    });
  });
});
