// The worker bundles this file: it lists every workflow, one per file.
export { budgetCycle } from './budget-cycle';
export { publication } from './publication';
export { reservationExpiry } from './reservation-expiry';
export { budgetOverride } from './budget-override';
export { budgetTransfer } from './budget-transfer';
export { erpSync } from './erp-sync';
export { erpEvents } from './erp-events';
export { masterDataSync } from './master-data-sync';
export { masterDataChange } from './master-data-change';
export { periodClose } from './period-close';
export { periodCloseEntity } from './period-close-entity';
export { scheduledPeriodClose } from './scheduled-period-close';
export { groupBudgetCycle } from './group-budget-cycle';
export { erpCutover } from './erp-cutover';
export { fileInbox } from './file-inbox';
