import { type Browser, type Page } from 'puppeteer-core';
import { type RunningDevServer } from '../../scripts/lib/dev-server';
import { decisionSignal } from '../../workflows/definitions';
import { awaitingApproval, planVersion, waitForStatus } from '../harness/cycle';
import { startStack, type TestStack } from '../harness/stack';
import { frameText, launchBrowser, startTemporalWithUi, waitForTextInFrames } from '../harness/temporal-ui';

/** The workflows table as the page shows it: its column headings, and each row's cells. */
const TABLE = `(() => {
  const table = document.querySelector('table');
  if (!table) return { heads: [], rows: [] };
  const text = (cells) => [...cells].map((c) => c.innerText.trim());
  return {
    heads: text(table.querySelectorAll('thead th')),
    rows: [...table.querySelectorAll('tbody tr')].map((tr) => text(tr.querySelectorAll('td'))),
  };
})()`;

/**
 * What support staff see in Temporal UI (the version the pinned Temporal CLI serves), in a real headless
 * Chromium: an invalid cycle ends "Completed" to Temporal just like a published one, so they find it by its
 * CycleStatus (a list view and a column, as docs/operations.md says) and read its outcome in its current
 * details, which the UI asks a worker for (the `__temporal_workflow_metadata` query).
 */
describe('Temporal UI tells an invalid cycle from a published one', () => {
  let temporal: RunningDevServer & { uiUrl: string };
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    temporal = await startTemporalWithUi();
    stack = await startStack({ env: { TEMPORAL_ADDRESS: temporal.address } });
    browser = await launchBrowser();
    page = await browser.newPage();
    page.setDefaultTimeout(20_000);
    page.setDefaultNavigationTimeout(30_000);
  }, 120_000);
  afterAll(async () => {
    // The browser first: the stack's teardown fails on any process it started that is still running.
    try {
      await browser?.close();
      await stack?.stop();
    } finally {
      await temporal?.stop();
    }
  }, 60_000);

  const workflowsUrl = (query: string) =>
    `${temporal.uiUrl}/namespaces/${stack.config.temporal.namespace}/workflows?query=${encodeURIComponent(query)}`;
  /** Waits until Temporal's list (its visibility store) answers `query` with the workflow. */
  const listed = async (query: string, workflowId: string) => {
    for (let i = 0; i < 100; i++) {
      for await (const w of stack.client.workflow.list({ query })) if (w.workflowId === workflowId) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${workflowId} was not listed for ${query} within 20 s`);
  };

  test('a list view by CycleStatus, CycleStatus as a column and "Outcome: INVALID" in its current details', async () => {
    // One version plans a line on an account the chart of accounts does not have; the other is approved.
    const { ref: invalidRef, rows } = planVersion(stack, await stack.newFiscalYear(), 1);
    rows[0] = { ...rows[0]!, dimensions: { ...rows[0]!.dimensions, account: '999999' } };
    stack.anaplan.putBudgetVersion({ ...invalidRef, rows });
    const { ref: publishedRef } = planVersion(stack, await stack.newFiscalYear(), 1);
    const invalid = await stack.startCycle(invalidRef);
    const published = await stack.startCycle(publishedRef, { chunkSize: 50 });
    await waitForStatus(published, awaitingApproval);
    await published.signal(
      decisionSignal,
      await stack.signed(published.workflowId, { decision: 'approve', principal: 'carol@acme.example' }),
    );
    expect((await invalid.result()).status).toBe('invalid');
    expect((await published.result()).status).toBe('completed');
    await listed('CycleStatus = "invalid"', invalid.workflowId);
    await listed('CycleStatus = "completed"', published.workflowId);

    // (a) The list view: every cycle that did not end completed, opened from a link that also keeps it as a
    // Custom View (`&savedQuery=<name>`).
    await page.goto(`${workflowsUrl('CycleStatus != "completed"')}&savedQuery=Cycles%20not%20completed`, {
      waitUntil: 'domcontentloaded',
    });
    await page.waitForSelector(`::-p-text("${invalid.workflowId}")`);
    const listText = await frameText(page);
    expect(listText).toContain(invalid.workflowId);
    expect(listText).not.toContain(published.workflowId);
    expect(listText).toContain('Cycles not completed');

    // (b) CycleStatus as a column: the gear ("Configure Columns") above the table, then + next to it under
    // Custom Search Attributes. The UI keeps the columns per namespace in the browser's local storage.
    await page.locator('[data-testid="workflows-summary-table-configuration-button"]').click();
    await page.locator('[data-testid="orderable-list-item-CycleStatus-add-button"]').click();
    await page.waitForFunction(`${TABLE}.heads.includes('CycleStatus')`);
    const table = (await page.evaluate(TABLE)) as { heads: string[]; rows: string[][] };
    const row = table.rows.find((cells) => cells.some((c) => c.includes(invalid.workflowId)));
    expect(row?.[table.heads.indexOf('CycleStatus')]).toBe('invalid');
    // Temporal's own status column still says Completed: that is why the column is needed.
    expect(row?.[table.heads.indexOf('Status')]).toBe('Completed');
    const stored = JSON.parse(
      (await page.evaluate(`localStorage.getItem('namespace-workflow-table-columns')`)) as string,
    ) as Record<string, { label: string }[]>;
    expect(stored[stack.config.temporal.namespace]?.map((c) => c.label)).toContain('CycleStatus');

    await page.locator('[data-testid="drawer-close-button"]').click();

    // (c) The cycle's page, User Metadata tab: its summary, and its current details from the worker.
    await page.goto(workflowsUrl('CycleStatus = "invalid"'), { waitUntil: 'domcontentloaded' });
    await page.locator(`a::-p-text("${invalid.workflowId}")`).click();
    await page.locator('a::-p-text(User Metadata)').click();
    const details = await waitForTextInFrames(page, 'Outcome: INVALID');
    expect(details).toContain('not published');
    expect(details).toContain('unknown_value');
    await waitForTextInFrames(page, `Budget cycle ${invalid.workflowId.replace('budget-cycle:', '')}`);

    // And a published cycle says what it published and reconciled.
    const { runId } = await published.describe();
    await page.goto(
      `${temporal.uiUrl}/namespaces/${stack.config.temporal.namespace}/workflows/${encodeURIComponent(published.workflowId)}/${runId}/user-metadata`,
      { waitUntil: 'domcontentloaded' },
    );
    const completed = await waitForTextInFrames(page, 'Outcome: COMPLETED');
    expect(completed).toMatch(/Published to d365 \(revision 1\): 3 chunks/);
    expect(completed).toMatch(/Reconciled d365/);
  }, 120_000);
});
