import { createHash } from 'node:crypto';
import { type LineIssue, validateBudgetRows } from '../domain/budget-validation';
import { type BudgetVersionRef, type PlanningBudgetRow } from '../domain/model';
import { type Money, sum, zero } from '../domain/money';
import { appendAudit } from '../db/queries/audit';
import { findVersion } from '../db/queries/budget-versions';
import { getLegalEntity, loadReferenceSnapshot } from '../db/queries/reference';
import { budgetLines, budgetVersions } from '../db/schema';
import { type ActivityDeps } from './deps';
import { conflict, notFound } from './failures';

export interface ImportBudgetVersionInput {
  ref: BudgetVersionRef;
  submittedBy: string;
  correlationId: string;
}

export interface ImportedBudgetVersion {
  versionId: string;
  valid: boolean;
  currency: string;
  lineCount: number;
  total: Money;
  issueCount: number;
  /** The first 50 issues; all of them are stored with the version. */
  issues: LineIssue[];
  /** The same content had been imported before (a retry or a Temporal UI reset): nothing was written. */
  alreadyImported: boolean;
}

const ISSUES_IN_RESULT = 50;

function contentHash(rows: readonly PlanningBudgetRow[]): string {
  const h = createHash('sha256');
  for (const r of rows)
    h.update(JSON.stringify([r.account, r.costCenter, r.period, r.amount, r.currency])).update('\n');
  return h.digest('hex');
}

export function createBudgetImportActivities({ db, planning }: Pick<ActivityDeps, 'db' | 'planning'>) {
  return {
    /** Plan: pull one version from the planning platform, validate it, store it with its verdict. */
    async importBudgetVersion(input: ImportBudgetVersionInput): Promise<ImportedBudgetVersion> {
      const { ref } = input;
      const entity = await getLegalEntity(db, ref.legalEntity);
      if (!entity) throw notFound(`legal entity ${ref.legalEntity} is not in the reference data`);
      const rows = await planning.fetchBudgetVersion(ref);
      const reference = await loadReferenceSnapshot(db, entity, ref.fiscalYear);
      const { lines, issues } = validateBudgetRows(rows, reference);
      const hash = contentHash(rows);
      const currency = entity.functionalCurrency;
      const total = issues.length
        ? zero(currency)
        : sum(
            lines.map((l) => l.amount),
            currency,
          );

      return db.transaction(async (tx) => {
        const existing = await findVersion(tx, ref, { forUpdate: true });
        if (existing) {
          if (existing.contentHash !== hash) {
            throw conflict(
              `version ${ref.version} of ${ref.legalEntity} FY${ref.fiscalYear} ${ref.scenario} was already imported with different content; versions are immutable, submit a new version number`,
            );
          }
          const stored = existing.validationIssues as LineIssue[];
          return {
            versionId: existing.id,
            valid: existing.status !== 'invalid',
            currency: existing.currency,
            lineCount: existing.lineCount,
            total: { amount: total.amount, currency },
            issueCount: stored.length,
            issues: stored.slice(0, ISSUES_IN_RESULT),
            alreadyImported: true,
          };
        }
        const [version] = await tx
          .insert(budgetVersions)
          .values({
            legalEntity: ref.legalEntity,
            fiscalYear: ref.fiscalYear,
            scenario: ref.scenario,
            versionNumber: ref.version,
            currency,
            sourceSystem: planning.system,
            status: issues.length ? 'invalid' : 'awaiting_approval',
            contentHash: hash,
            lineCount: rows.length,
            totalAmount: total.amount,
            validationIssues: issues,
            submittedBy: input.submittedBy,
            correlationId: input.correlationId,
          })
          .returning({ id: budgetVersions.id });
        const versionId = version!.id;
        // Insert in slices: one statement per 1000 lines keeps parameters under Postgres' limit.
        for (let i = 0; i < lines.length; i += 1000) {
          await tx.insert(budgetLines).values(
            lines.slice(i, i + 1000).map((l) => ({
              versionId,
              lineNo: l.lineNo,
              account: l.dimensions.account,
              costCenter: l.dimensions.costCenter,
              period: l.period,
              amount: l.amount.amount,
              currency: l.amount.currency,
            })),
          );
        }
        await appendAudit(tx, {
          actor: input.submittedBy,
          action: issues.length ? 'budget_version.rejected_by_validation' : 'budget_version.imported',
          entityType: 'budget_version',
          entityId: versionId,
          correlationId: input.correlationId,
          eventKey: `import:${ref.legalEntity}:FY${ref.fiscalYear}:${ref.scenario}:v${ref.version}`,
          details: {
            ref,
            source: planning.system,
            lineCount: rows.length,
            total,
            issueCount: issues.length,
            contentHash: hash,
          },
        });
        return {
          versionId,
          valid: issues.length === 0,
          currency,
          lineCount: rows.length,
          total,
          issueCount: issues.length,
          issues: issues.slice(0, ISSUES_IN_RESULT),
          alreadyImported: false,
        };
      });
    },
  };
}
