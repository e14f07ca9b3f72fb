import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { probeHealth } from '../health';
import { FailureType } from '../../../domain/failures';
import { negate } from '../../../domain/money';
import {
  type BudgetChunkPublication,
  type CallControl,
  type ErpConnector,
  type PostedDocument,
  type TargetBudgetLine,
  type TargetBudgetTotal,
  type TargetLocation,
} from '../types';
import {
  dimensionsOf,
  readChartValues,
  readJournalPage,
  readOpenCommitments,
  readRates,
  type SegmentLayout,
} from './books';
import { readResult, sendBudgetEntry, transactionNumber } from './control-budgets';
import { type GlBudgetConfig, loadBudgetBalances, readBudgetBalances, runNameOf } from './gl-budgets';
import { type LedgerPeriod, readLedgerPeriods, takesBudgets } from './periods';
import { createOracleRest, type OracleRestConfig, SYSTEM } from './rest';

/**
 * Oracle Fusion Cloud Financials. As a budget target, an entity routed to it (docs/routing.md) has its
 * approved budget posted to a control budget of its ledger as budgetary control budget entries
 * (control-budgets.ts), never into a period the ledger does not take budgets into (periods.ts). As the system
 * of record of an entity's books (legal_entities.erp_system 'oracle'), its journals, open purchase orders,
 * rates and chart values are read (books.ts). The route's company is the ledger's id; its settings name the
 * control budget (`controlBudget`), the segment order of the ledger's account combinations (`dimensionFormat`,
 * canonical dimensions joined by '-') and their delimiter (`segmentDelimiter`, '-' unless the chart of
 * accounts uses another), and for an entity's books the ledger's name (`ledgerName`) and the legal entity its
 * orders are sold to (`soldToLegalEntity`).
 */

export interface OracleConnectorConfig extends OracleRestConfig {
  /** How GL budget balances are loaded (gl-budgets.ts). */
  glBudgets: GlBudgetConfig;
  /** closeloop's rate types by the ledger's conversion rate type names. */
  rateTypeNames: Partial<Record<'spot' | 'average' | 'budget', string>>;
  /** The value sets of the natural account and cost center segments. */
  accountValueSet: string;
  costCenterValueSet: string;
}

/** Dimensions a ledger holds itself, without a segment. */
const HELD_BY_LEDGER = ['ledger'] as const;
const DEFAULT_FORMAT = ['account', 'costCenter'];

const ControlBudgetSettings = z.object({
  controlBudget: z.string().min(1),
  dimensionFormat: z.string().min(1).optional(),
  segmentDelimiter: z.string().length(1).optional(),
});
const GlBudgetSettings = z.object({
  budgetName: z.string().min(1),
  ledgerName: z.string().min(1),
  dimensionFormat: z.string().min(1).optional(),
  segmentDelimiter: z.string().length(1).optional(),
});

/** How a ledger's account combinations read, from the route's settings. */
const layoutOf = (settings: Readonly<Record<string, string>> | undefined): SegmentLayout => ({
  segments: settings?.dimensionFormat?.split('-') ?? DEFAULT_FORMAT,
  delimiter: settings?.segmentDelimiter ?? '-',
});

/** The route's model and the settings it needs: a control budget, or a GL budget and its ledger's name. */
function settingsOf(target: TargetLocation) {
  const model = target.postingModel ?? 'control-budget';
  const layout = layoutOf(target.settings);
  if (model === 'control-budget') {
    const parsed = ControlBudgetSettings.safeParse(target.settings);
    if (!parsed.success)
      throw ApplicationFailure.nonRetryable(
        `the ${SYSTEM} route to ledger ${target.company} needs the setting controlBudget (the control budget its entries go to)`,
        FailureType.ValidationFailed,
      );
    return { model, controlBudget: parsed.data.controlBudget, ...layout } as const;
  }
  if (model === 'replace-scope') {
    const parsed = GlBudgetSettings.safeParse(target.settings);
    if (!parsed.success)
      throw ApplicationFailure.nonRetryable(
        `the ${SYSTEM} route to ledger ${target.company} needs the settings budgetName (the GL budget its balances are loaded to) and ledgerName`,
        FailureType.ValidationFailed,
      );
    return {
      model,
      budgetName: parsed.data.budgetName,
      ledgerName: parsed.data.ledgerName,
      ...layout,
    } as const;
  }
  throw ApplicationFailure.nonRetryable(
    `${SYSTEM} takes budgets as control budgets or GL budget balances; ${model} is not one of them`,
    FailureType.ValidationFailed,
  );
}

/** The ledger's period a day falls in (an adjustment period shares its days; the first listed is taken). */
const periodOn = (periods: readonly LedgerPeriod[], day: string) =>
  periods.find((p) => p.startDate <= day && day <= p.endDate);

export function createOracleConnector(config: OracleConnectorConfig): ErpConnector {
  const rest = createOracleRest(config);

  function segmentsOf(line: TargetBudgetLine, s: ReturnType<typeof settingsOf>): string[] {
    const missing = s.segments.filter((d) => !line.dimensions[d]);
    if (missing.length)
      throw ApplicationFailure.nonRetryable(
        `line ${line.lineNumber} has no ${missing.join(', ')} for the ${SYSTEM} account combination (${s.segments.join(s.delimiter)})`,
        FailureType.ValidationFailed,
      );
    return s.segments.map((d) => line.dimensions[d]!);
  }

  async function entryLines(target: TargetLocation, lines: readonly TargetBudgetLine[]) {
    const s = settingsOf(target);
    const periods = await readLedgerPeriods(rest, target.company);
    return {
      settings: s,
      lines: lines.map((l) => {
        const period = periodOn(periods, l.date);
        if (!period)
          throw ApplicationFailure.nonRetryable(
            `ledger ${target.company} has no period containing ${l.date} (line ${l.lineNumber})`,
            FailureType.ValidationFailed,
          );
        return { segments: segmentsOf(l, s), period: period.period, amount: l.amount };
      }),
    };
  }

  async function post(chunk: BudgetChunkPublication, control: CallControl = {}): Promise<PostedDocument> {
    const { settings, lines } = await entryLines(chunk.target, chunk.lines);
    if (settings.model === 'replace-scope') {
      const loaded = await loadBudgetBalances(
        rest,
        config.glBudgets,
        {
          key: chunk.idempotencyKey,
          ledgerId: chunk.target.company,
          ledgerName: settings.ledgerName,
          budgetName: settings.budgetName,
          balances: lines.map((l) => ({ ...l, amount: l.amount.amount, currency: l.amount.currency })),
        },
        settings.delimiter,
        control,
      );
      return {
        idempotencyKey: chunk.idempotencyKey,
        // The run name is what support finds the load by in Oracle; the ESS request runs it.
        documentNumber: runNameOf(chunk.idempotencyKey),
        lineCount: chunk.lines.length,
        alreadyPosted: loaded.alreadyLoaded,
      };
    }
    const number = transactionNumber(chunk.idempotencyKey);
    const exclusive = control.exclusive ?? ((_key, fn) => fn());
    const sent = await exclusive(chunk.idempotencyKey, () =>
      sendBudgetEntry(rest, {
        number,
        type: chunk.purpose === 'original' ? 'INITIAL' : 'ADJUSTMENT',
        controlBudget: settings.controlBudget,
        lines: lines.map((l) => ({
          account: l.segments.join(settings.delimiter),
          period: l.period,
          amount: l.amount,
        })),
      }),
    );
    control.progress?.({ transactionNumber: number, status: sent.result.HeaderStatus });
    return {
      idempotencyKey: chunk.idempotencyKey,
      documentNumber: number,
      lineCount: chunk.lines.length,
      alreadyPosted: sent.alreadySent,
    };
  }

  /** What a GL budget holds in the ledger's periods of a window, every combination, from its balances. */
  async function glBudgetTotals(
    target: TargetLocation,
    s: Extract<ReturnType<typeof settingsOf>, { model: 'replace-scope' }>,
    window: { fromDate: string; toDate: string; currency?: string },
  ): Promise<TargetBudgetTotal[]> {
    if (!window.currency)
      throw ApplicationFailure.nonRetryable(
        `${SYSTEM} GL budget balances are read in one currency: the caller must name the budget's`,
        FailureType.ValidationFailed,
      );
    const currency = window.currency;
    const periods = (await readLedgerPeriods(rest, target.company)).filter(
      (p) => p.startDate >= window.fromDate && p.startDate <= window.toDate,
    );
    const starts = new Map(periods.map((p) => [p.period, p.startDate]));
    const held = await readBudgetBalances(rest, {
      ledgerName: s.ledgerName,
      budgetName: s.budgetName,
      periods: periods.map((p) => p.period),
      currency,
      segments: s.segments.length,
      delimiter: s.delimiter,
    });
    return [...held].map(([key, amount]) => {
      const [period, combination] = key.split('|') as [string, string];
      return {
        dimensions: dimensionsOf(combination, s),
        date: starts.get(period)!,
        amount: { amount, currency },
      };
    });
  }

  return {
    system: SYSTEM,
    heldByCompany: HELD_BY_LEDGER,

    // Any answer from the REST framework to an authenticated read: one page of one item.
    health: () =>
      probeHealth(SYSTEM, async () => {
        for await (const _ of rest.collection('accountingPeriodStatusLOV', z.unknown(), {
          fields: ['PeriodNameId'],
        }))
          break;
      }),

    dimensionsHeld(target) {
      return [...HELD_BY_LEDGER, ...layoutOf(target.settings).segments];
    },

    publishBudgetChunk: post,

    async reverseBudgetChunk(reversal, control) {
      // A GL budget's balances are loaded back to what they held: the lines are those amounts already.
      if (settingsOf(reversal.target).model === 'replace-scope') return post(reversal, control);
      const original = await readResult(rest, transactionNumber(reversal.originalIdempotencyKey));
      const again = await readResult(rest, transactionNumber(reversal.idempotencyKey));
      // A budget entry Oracle never applied (unknown, or failed validation) changed no balance: nothing to undo.
      if ((!original || original.HeaderStatus === 'failed') && !again)
        return {
          idempotencyKey: reversal.idempotencyKey,
          documentNumber: '',
          lineCount: 0,
          alreadyPosted: false,
          originalMissing: true,
        };
      return post(
        {
          ...reversal,
          purpose: 'revision',
          lines: reversal.lines.map((l) => ({ ...l, amount: negate(l.amount) })),
        },
        control,
      );
    },

    /**
     * A GL budget is read from its balances (`ledgerBalances`). Oracle publishes no REST read of control budget
     * balances (they are extracted through BICC), so what a control budget holds from closeloop is read as what
     * it did with each budget entry closeloop sent: the lines of every entry whose result passed (or passed
     * with a warning) count, an unknown or failed one does not, and reconciliation shows the difference.
     */
    async fetchBudgetTotals(query, control): Promise<TargetBudgetTotal[]> {
      const s = settingsOf(query.target);
      if (s.model === 'replace-scope') return glBudgetTotals(query.target, s, query);
      if (!query.posted)
        throw ApplicationFailure.nonRetryable(
          `${SYSTEM} control budgets are read back by the entries closeloop sent: the caller must name them`,
          FailureType.ValidationFailed,
        );
      const totals: TargetBudgetTotal[] = [];
      for await (const { document, lines } of query.posted()) {
        const result = await readResult(rest, document);
        control?.progress?.({ document });
        if (!result || result.HeaderStatus === 'failed') continue;
        for (const l of lines)
          if (query.fromDate <= l.date && l.date <= query.toDate)
            totals.push({ dimensions: l.dimensions, date: l.date, amount: l.amount });
      }
      return totals;
    },

    fetchActualsPage: (query, cursor) => readJournalPage(rest, query, layoutOf(query.settings), cursor),

    fetchOpenCommitments: (query, control) =>
      readOpenCommitments(rest, query, layoutOf(query.settings), control),

    fetchExchangeRates: (query, control) => readRates(rest, config.rateTypeNames, query.fromDate, control),

    fetchMasterData: (_query, control) =>
      readChartValues(
        rest,
        { account: config.accountValueSet, costCenter: config.costCenterValueSet },
        control,
      ),

    async periodsRefused(target, days) {
      const periods = await readLedgerPeriods(rest, target.company);
      const refused: { day: string; reason: string }[] = [];
      for (const day of days) {
        const period = periodOn(periods, day);
        if (!period)
          refused.push({ day, reason: `ledger ${target.company} has no period containing ${day}` });
        else if (!takesBudgets(period.status))
          refused.push({
            day,
            reason: `${period.period} is ${period.status.replace(/_/g, ' ')} in ledger ${target.company}`,
          });
      }
      return refused;
    },
  };
}
