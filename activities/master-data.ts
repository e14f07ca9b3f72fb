import {
  decideMasterDataChange,
  listMasterDataChanges,
  type MasterDataChangeRow,
} from '../db/queries/master-data';
import { applyMasterDataRead, type MasterDataApplied } from '../db/queries/master-data-sync';
import { getLegalEntity } from '../db/queries/reference';
import { chartVersions } from '../db/queries/chart';
import { applyProjectsRead, type ProjectsApplied } from '../db/queries/projects';
import { chartDimensionCodes } from '../domain/chart';
import { type ActivityDeps, booksFor } from './deps';
import { notFound } from './failures';
import { withHeartbeat } from './heartbeat';
import { booksErpOn, today } from './books-erp';

export interface MasterDataSyncInput {
  legalEntity: string;
  correlationId: string;
  /** The day the read applies as of (default: today); tests pass one. */
  asOf?: string;
}

export interface MasterDataDecisionInput {
  changeId: string;
  decision: 'approve' | 'reject' | 'expire';
  decidedBy: string;
  comment?: string;
  decidedAt: string;
}

/** A change waiting for a person, as its approval workflow is started with. */
export type AwaitingChange = Pick<
  MasterDataChangeRow,
  'id' | 'code' | 'fromValue' | 'toValue' | 'effectiveFrom' | 'requestedBy' | 'correlationId'
>;

export interface MasterDataSyncOutcome extends MasterDataApplied {
  /** Every change of the entity still waiting for approval (new ones and older ones), oldest first. */
  awaitingApproval: AwaitingChange[];
  /** The projects read from the ERP, where its chart has a project dimension and the ERP keeps projects. */
  projects?: ProjectsApplied;
}

export type MasterDataChangeOutcome = Pick<
  MasterDataChangeRow,
  'id' | 'status' | 'decidedBy' | 'code' | 'toValue'
>;

export function createMasterDataActivities(deps: Pick<ActivityDeps, 'db' | 'erps'>) {
  const { db } = deps;
  return {
    /**
     * Reads the entity's chart of accounts and cost centers from its ERP, their system of record, and applies
     * them (see applyMasterDataRead): a rerun applies nothing twice, since every step is decided by what the
     * database already holds.
     */
    async syncMasterData(input: MasterDataSyncInput): Promise<MasterDataSyncOutcome> {
      const entity = await getLegalEntity(db, input.legalEntity);
      if (!entity) throw notFound(`legal entity ${input.legalEntity} does not exist`);
      const onDate = input.asOf ?? today();
      // Across a cut-over the master data's system of record is the ERP whose books count on the day.
      const books = await booksErpOn(db, entity, onDate);
      const connector = booksFor(deps, books.system);
      const records = await withHeartbeat((control) =>
        connector.fetchMasterData({ company: books.company }, control),
      );
      const applied = await applyMasterDataRead(
        db,
        {
          legalEntity: entity.code,
          sourceSystem: books.system,
          onDate,
          by: `sync:${books.system}`,
          correlationId: input.correlationId,
        },
        records,
        { complete: true },
      );
      // Projects and the grants funding them, where the entity's chart controls on projects.
      const projects =
        connector.fetchProjects &&
        chartDimensionCodes(await chartVersions(db, entity.code)).includes('project')
          ? await applyProjectsRead(
              db,
              {
                legalEntity: entity.code,
                currency: entity.functionalCurrency,
                source: books.system,
                by: `sync:${books.system}`,
                correlationId: input.correlationId,
                onDate,
              },
              await withHeartbeat((control) => connector.fetchProjects!({ company: books.company }, control)),
            )
          : undefined;
      const waiting = await listMasterDataChanges(db, {
        legalEntity: entity.code,
        statuses: ['awaiting_approval'],
        limit: 1000,
      });
      return {
        ...applied,
        ...(projects ? { projects } : {}),
        awaitingApproval: waiting.reverse().map((c) => ({
          id: c.id,
          code: c.code,
          fromValue: c.fromValue,
          toValue: c.toValue,
          effectiveFrom: c.effectiveFrom,
          requestedBy: c.requestedBy,
          correlationId: c.correlationId,
        })),
      };
    },

    /** Records the decision on a waiting master-data change (and applies it when approved), once. */
    async decideMasterDataChange(input: MasterDataDecisionInput): Promise<MasterDataChangeOutcome> {
      const row = await db.transaction((tx) => decideMasterDataChange(tx, input));
      return {
        id: row.id,
        status: row.status,
        decidedBy: row.decidedBy,
        code: row.code,
        toValue: row.toValue,
      };
    },
  };
}
