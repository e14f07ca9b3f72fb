import { cycleDetails, md } from '../../workflows/budget-cycle-details';
import { type BudgetCycleStatus } from '../../workflows/budget-cycle-state';

const base: BudgetCycleStatus = {
  cycleId: 'budget-cycle:ACME-US:FY2027:BUDGET:v4',
  ref: { legalEntity: 'ACME-US', fiscalYear: 2027, scenario: 'BUDGET', version: 4 },
  correlationId: 'c',
  submittedBy: 'alice@acme.example',
  stage: 'plan',
  status: 'invalid',
  refusedSignals: [],
  publications: [],
  publicationRetries: [],
  reconciliation: [],
  history: [],
};

describe('what a budget cycle shows in Temporal UI as its current details', () => {
  test('an invalid cycle says so first, with its issues', () => {
    const details = cycleDetails(
      {
        ...base,
        issueCount: 1,
        issues: [
          {
            lineNo: 7,
            field: 'period',
            code: 'period_closed',
            message: '610200/CC-300 in closed period 2027-03 would change from 1.00 to 2.00 USD',
          },
        ],
      },
      true,
    );
    expect(details).toMatch(
      new RegExp(
        '^' +
          [
            '\\*\\*Outcome: INVALID\\*\\* — not published',
            '\\*\\*ACME-US:FY2027:BUDGET:v4\\*\\* ended at plan / invalid\\.',
            '1 validation issue:',
            '- line 7 \\(period\\): `period_closed` 610200/CC-300 in closed period 2027-03 would change from 1\\.00 to 2\\.00 USD',
          ].join('\n\n'),
      ),
    );
  });

  test('a running cycle shows its stage, and whom it waits for while another version publishes', () => {
    expect(
      cycleDetails(
        { ...base, stage: 'execute', status: 'publishing', waitingFor: 'version 3 is publishing' },
        false,
      ),
    ).toBe('**ACME-US:FY2027:BUDGET:v4**: execute / publishing\n\nWaiting its turn: version 3 is publishing');
  });

  test('text from people shows as typed', () => {
    expect(md('a *b* _c_ `d` [e]')).toBe('a \\*b\\* \\_c\\_ \\`d\\` \\[e\\]');
  });
});
