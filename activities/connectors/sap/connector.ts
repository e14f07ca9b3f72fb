import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { probeHealth } from '../health';
import { FailureType } from '../../../domain/failures';
import { type FiscalYearVariant, fiscalPeriodOn, K4, periodStart } from '../../../domain/fiscal-year-variant';
import { errorReason } from '../http';
import {
  type BudgetChunkPublication,
  type ErpConnector,
  type CallControl,
  type PostedDocument,
  type TargetBudgetLine,
  type TargetBudgetTotal,
  type TargetLocation,
} from '../types';
import { readExchangeRates, readJournalEntryPage, readOpenAssignments, readSapMasterData } from './books';
import { createSapOData, type SapODataConfig, SYSTEM } from './odata';

/**
 * SAP S/4HANA, both ways. As a budget target, an entity routed to it has its approved budget written as plan data of one
 * planning category of its company code (`API_FINPLANNINGDATA_SRV`, `FinancialPlanData`), which replaces what
 * the category holds in each fiscal year period it names (the `replace-scope` posting model: a scope is a
 * period, written `PPP.YYYY` in the service's `FiscalYearPeriod`, under the company code's fiscal year
 * variant). The route's company is the company code; its settings name the planning category
 * (`planningCategory`), the fiscal year variant (`fiscalYearVariant`: K4, the calendar year, or V3, April to
 * March named by its start, each with four special periods), optionally the ledger (`ledger`) and which plan
 * data field each canonical dimension is (`fields`, `account=GLAccount,costCenter=CostCenter` by default). As
 * the books of an entity whose company code it is, its journal entry items, purchase orders, exchange rates and
 * master data are read (books.ts).
 */

export interface SapConnectorConfig extends SapODataConfig {
  /** The chart of accounts whose G/L accounts are an SAP entity's accounts. */
  chartOfAccounts: string;
  /** closeloop's rate types by SAP's exchange rate types. */
  rateTypeNames: Partial<Record<'spot' | 'average' | 'budget', string>>;
}

export const FISCAL_YEAR_VARIANTS: Record<string, FiscalYearVariant> = {
  K4,
  V3: { code: 'V3', firstMonth: 4, namedBy: 'start', specialPeriods: 4 },
};

const Settings = z.object({
  planningCategory: z.string().min(1).max(10),
  fiscalYearVariant: z.enum(Object.keys(FISCAL_YEAR_VARIANTS) as [string, ...string[]]),
  ledger: z.string().min(1).max(2).optional(),
  fields: z
    .string()
    .regex(/^\w+=\w+(,\w+=\w+)*$/)
    .optional(),
});
const DEFAULT_FIELDS = 'account=GLAccount,costCenter=CostCenter';

export function settingsOf(target: TargetLocation) {
  if ((target.postingModel ?? 'replace-scope') !== 'replace-scope')
    throw ApplicationFailure.nonRetryable(
      `${SYSTEM} holds budgets as plan data replaced by period (replace-scope); ${target.postingModel} is not one of its ways`,
      FailureType.ValidationFailed,
    );
  const parsed = Settings.safeParse(target.settings);
  if (!parsed.success)
    throw ApplicationFailure.nonRetryable(
      `the ${SYSTEM} route to company code ${target.company} needs the settings planningCategory and fiscalYearVariant (${Object.keys(FISCAL_YEAR_VARIANTS).join(' or ')})`,
      FailureType.ValidationFailed,
    );
  return {
    ...parsed.data,
    variant: FISCAL_YEAR_VARIANTS[parsed.data.fiscalYearVariant]!,
    fields: fieldsOf(target.settings),
  };
}

/** `PPP.YYYY`, as the plan data services write FiscalYearPeriod (a string of 8). */
const periodText = (fiscalYear: number, period: number) => `${String(period).padStart(3, '0')}.${fiscalYear}`;

const PlanEntry = z
  .object({
    FiscalYearPeriod: z.string().regex(/^\d{3}\.\d{4}$/),
    CompanyCodeCurrency: z.string().regex(/^[A-Z]{3}$/),
    AmountInCompanyCodeCurrency: z.string().regex(/^-?\d+(\.\d+)?$/),
  })
  .passthrough();

/** Which plan data or journal entry field each canonical dimension is, from a route's settings. */
const fieldsOf = (settings: Readonly<Record<string, string>> | undefined): Record<string, string> =>
  Object.fromEntries(
    (settings?.fields ?? DEFAULT_FIELDS).split(',').map((p) => p.split('=') as [string, string]),
  );

/**
 * One plan data entry item of a line (`to_FinPlanningEntryItemTP`): its company code, planning category, fiscal
 * year and period under the route's variant, amount, and the fields the route maps its dimensions to.
 */
export function planDataItem(
  l: TargetBudgetLine,
  companyCode: string,
  s: ReturnType<typeof settingsOf>,
): Record<string, string> {
  // closeloop's adjustment periods (13 on) are SAP's special periods; the others fall by their first day.
  const number = Number(l.period.slice(5));
  const onDay = fiscalPeriodOn(l.date, s.variant);
  const { fiscalYear, period } = number > 12 ? { ...onDay, period: number } : onDay;
  const item: Record<string, string> = {
    ...(s.ledger ? { Ledger: s.ledger } : {}),
    PlanningCategory: s.planningCategory,
    LedgerFiscalYear: String(fiscalYear),
    CompanyCode: companyCode,
    FiscalYearPeriod: periodText(fiscalYear, period),
    CompanyCodeCurrency: l.amount.currency,
    AmountInCompanyCodeCurrency: l.amount.amount,
  };
  for (const [dimension, field] of Object.entries(s.fields)) {
    const value = l.dimensions[dimension];
    if (!value)
      throw ApplicationFailure.nonRetryable(
        `line ${l.lineNumber} has no ${dimension} for the ${SYSTEM} plan data field ${field}`,
        FailureType.ValidationFailed,
      );
    item[field] = value;
  }
  return item;
}

export function createSapConnector(config: SapConnectorConfig): ErpConnector {
  const plan = createSapOData(config, 'API_FINPLANNINGDATA_SRV');
  const read = createSapOData(config, 'API_FINPLANNINGENTRYITEM_SRV');
  const journal = createSapOData(config, 'API_OPLACCTGDOCITEMCUBE_SRV');
  const orders = createSapOData(config, 'API_PURCHASEORDER_PROCESS_SRV');
  const rates = createSapOData(config, 'API_EXCHANGE_RATES_SRV');
  const costCenters = createSapOData(config, 'API_COSTCENTER_SRV');
  const glAccounts = createSapOData(config, 'API_GLACCOUNTINCHARTOFACCOUNTS_SRV');

  /** Sends what each period (scope) of a chunk is to hold: one change set per period, in one `$batch`. */
  async function load(chunk: BudgetChunkPublication, control: CallControl = {}): Promise<PostedDocument> {
    const s = settingsOf(chunk.target);
    const scopes = new Map<string, Record<string, string>[]>();
    for (const l of chunk.lines) {
      const item = planDataItem(l, chunk.target.company, s);
      const fyp = item.FiscalYearPeriod!;
      scopes.set(fyp, [...(scopes.get(fyp) ?? []), item]);
    }
    const aggregation = [
      ...(s.ledger ? ['Ledger'] : []),
      'LedgerFiscalYear',
      'PlanningCategory',
      'CompanyCode',
      'FiscalYearPeriod',
      ...Object.values(s.fields),
      'AmountInCompanyCodeCurrency',
      'CompanyCodeCurrency',
    ].join(',');
    const replaceScope = [
      ...(s.ledger ? ['Ledger'] : []),
      'LedgerFiscalYear',
      'PlanningCategory',
      'CompanyCode',
      'FiscalYearPeriod',
    ].join(',');
    const periods = [...scopes.keys()].sort();
    const outcomes = await plan.batch(
      periods.map((p) => [
        {
          method: 'POST' as const,
          path: 'FinancialPlanData',
          body: {
            PlanDataAggrgnLvlFieldsString: aggregation,
            PlanDataRplcScopeFieldsString: replaceScope,
            to_FinPlanningEntryItemTP: { results: scopes.get(p) },
          },
        },
      ]),
    );
    control.progress?.({ periods: periods.length });
    const refused = outcomes.flatMap((o, i) =>
      o.ok ? [] : [`${periods[i]}: ${errorReason(JSON.stringify(o.error.body))}`],
    );
    if (refused.length)
      // The periods SAP took hold what they should; a retry after the fix replaces them again, the same.
      throw ApplicationFailure.nonRetryable(
        `${SYSTEM} refused plan data of company code ${chunk.target.company} for ${refused.join('; ')}`,
        FailureType.ConnectorRejected,
      );
    return {
      idempotencyKey: chunk.idempotencyKey,
      // Plan data has no document of its own: the key is what the change is found by in closeloop's trail.
      documentNumber: chunk.idempotencyKey,
      lineCount: chunk.lines.length,
      alreadyPosted: false,
    };
  }

  return {
    system: SYSTEM,
    heldByCompany: ['company', 'ledger'],

    health: () =>
      probeHealth(SYSTEM, async () => {
        for await (const _ of read.collection('A_FinPlanningEntryItem', z.unknown(), {
          select: ['FiscalYearPeriod'],
        }))
          break;
      }),

    dimensionsHeld(target) {
      return ['company', 'ledger', ...Object.keys(settingsOf(target).fields)];
    },

    publishBudgetChunk: load,

    fetchActualsPage: (query, cursor) =>
      readJournalEntryPage(journal, query, fieldsOf(query.settings), cursor),

    fetchOpenCommitments: (query, control) =>
      readOpenAssignments(orders, journal, query, fieldsOf(query.settings), control),

    fetchExchangeRates: (query) => readExchangeRates(rates, config.rateTypeNames, query.fromDate),

    fetchMasterData: (query, control) =>
      readSapMasterData(
        costCenters,
        glAccounts,
        { company: query.company, chartOfAccounts: config.chartOfAccounts },
        control,
      ),
    // A period taken back is sent at what it held before the chunk: the lines are those amounts already.
    reverseBudgetChunk: (reversal, control) => load(reversal, control),

    /** What the planning category holds in the company code, by period, read from its plan data entries. */
    async fetchBudgetTotals(query): Promise<TargetBudgetTotal[]> {
      const s = settingsOf(query.target);
      const years = new Set([
        fiscalPeriodOn(query.fromDate, s.variant).fiscalYear,
        fiscalPeriodOn(query.toDate, s.variant).fiscalYear,
      ]);
      const totals: TargetBudgetTotal[] = [];
      for (const year of years)
        for await (const page of read.collection('A_FinPlanningEntryItem', PlanEntry, {
          filter: [
            `CompanyCode eq '${query.target.company}'`,
            `PlanningCategory eq '${s.planningCategory}'`,
            `LedgerFiscalYear eq '${year}'`,
            ...(s.ledger ? [`Ledger eq '${s.ledger}'`] : []),
          ].join(' and '),
        }))
          for (const e of page) {
            const [period, fiscalYear] = e.FiscalYearPeriod.split('.').map(Number) as [number, number];
            const date = periodStart(fiscalYear, period, s.variant);
            if (date < query.fromDate || date > query.toDate) continue;
            const dimensions: Record<string, string> = {};
            for (const [dimension, field] of Object.entries(s.fields)) {
              const value = (e as Record<string, unknown>)[field];
              if (typeof value === 'string' && value) dimensions[dimension] = value;
            }
            totals.push({
              dimensions,
              date,
              amount: { amount: e.AmountInCompanyCodeCurrency, currency: e.CompanyCodeCurrency },
            });
          }
      return totals;
    },
  };
}
