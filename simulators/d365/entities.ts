import { NoYes, type EntityType } from '../odata';

/**
 * The Dynamics 365 Finance data entities the simulator serves, field for field as published:
 * - field names: microsoft/CDM schemaDocuments/core/operationsCommon/Entities/Finance/Budgeting/
 *   BudgetRegisterEntryHeaderEntity, BudgetRegisterEntryLineEntity, BudgetRegisterEntryEntity ("Budget
 *   account entries"); Finance/GeneralLedger/GeneralJournalAccountEntryEntity; SupplyChain/
 *   ProcurementAndSourcing/PurchPurchaseOrderHeaderV2Entity and PurchPurchaseOrderLineV2Entity;
 * - Edm types and keys: the backing tables in microsoft/CDM schemaDocuments/core/operationsCommon/Tables
 *   (BudgetTransactionHeader, BudgetTransactionLine, GeneralJournalAccountEntry, PurchTable, PurchLine) and a
 *   client generated from a live $metadata (entity sets and keys); enum members from the enums' published
 *   reference (BudgetTransactionStatus, BudgetTransactionWorkflowStatus, BudgetCheckResult, BudgetType).
 * test/contracts/d365/entities.json holds the same lists as a fixture; a contract test keeps both equal.
 */

export const BudgetTransactionStatus = { enum: 'BudgetTransactionStatus', members: ['Draft', 'Completed'] };
export const BudgetTransactionWorkflowStatus = {
  enum: 'BudgetTransactionWorkflowStatus',
  members: ['None', 'NotSubmitted', 'Submitted', 'Approved', 'Rejected'],
};
export const BudgetCheckResult = {
  enum: 'BudgetCheckResult',
  members: ['NoCheck', 'Passed', 'PassedWithWarnings', 'Failed'],
};
const BudgetType = { enum: 'BudgetType', members: ['Expense', 'Revenue'] };
const BudgetTransactionType = {
  enum: 'BudgetTransactionType',
  members: [
    'Blank',
    'OriginalBudget',
    'Transfer',
    'Amendment',
    'Encumbrance',
    'PreEncumbrance',
    'CarryForwardBudget',
    'Project',
    'FixedAsset',
    'SalesForecast',
    'PurchForecast',
    'Apportionment',
    'PreliminaryBudget',
  ],
};
export const PurchStatus = {
  enum: 'PurchStatus',
  members: ['None', 'Backorder', 'Received', 'Invoiced', 'Canceled'],
};
export const VersioningDocumentState = {
  enum: 'VersioningDocumentState',
  members: ['Draft', 'InReview', 'Rejected', 'Approved', 'InExternalReview', 'Confirmed', 'Finalized'],
};
export const CurrentOperationsTax = {
  enum: 'CurrentOperationsTax',
  members: ['Current', 'Operations', 'Tax'],
};
const LedgerPostingType = {
  enum: 'LedgerPostingType',
  members: ['None', 'LedgerJournal', 'PurchConsump', 'VendBalance', 'Tax', 'PurchPckSlp', 'CustBalance'],
};

export const BudgetRegisterEntryHeaders: EntityType = {
  set: 'BudgetRegisterEntryHeaders',
  keys: ['dataAreaId', 'LegalEntityId', 'EntryNumber'],
  properties: {
    dataAreaId: 'Edm.String',
    LegalEntityId: 'Edm.String',
    EntryNumber: 'Edm.String',
    BudgetCode: 'Edm.String',
    BudgetModelId: 'Edm.String',
    Status: BudgetTransactionStatus,
    BudgetType: BudgetTransactionType,
    DefaultDate: 'Edm.DateTimeOffset',
    OneTimeRevision: NoYes,
    ReasonCode: 'Edm.String',
    ReasonComment: 'Edm.String',
    SourceDocument: 'Edm.String',
    WorkflowStatus: BudgetTransactionWorkflowStatus,
    ExpenseBudgetTotal: 'Edm.Decimal',
    RevenueBudgetTotal: 'Edm.Decimal',
  },
};

export const BudgetRegisterEntryLines: EntityType = {
  set: 'BudgetRegisterEntryLines',
  keys: ['dataAreaId', 'LegalEntityId', 'EntryNumber', 'LineNumber'],
  properties: {
    dataAreaId: 'Edm.String',
    LegalEntityId: 'Edm.String',
    EntryNumber: 'Edm.String',
    LineNumber: 'Edm.Decimal',
    AccountingCurrencyAmount: 'Edm.Decimal',
    AmountType: BudgetType,
    Comment: 'Edm.String',
    CurrencyCode: 'Edm.String',
    EntryDate: 'Edm.DateTimeOffset',
    DimensionAccountStructure: 'Edm.String',
    DimensionDisplayValue: 'Edm.String',
    IncludeInCashFlowForecast: NoYes,
    Price: 'Edm.Decimal',
    Quantity: 'Edm.Decimal',
    TransactionCurrencyAmount: 'Edm.Decimal',
    WorkflowStatus: BudgetTransactionWorkflowStatus,
    BudgetCheckResult,
  },
};

/** The flat "Budget account entries" entity: one row per line, with its header's model, code and status. */
export const BudgetRegisterEntries: EntityType = {
  set: 'BudgetRegisterEntries',
  keys: ['dataAreaId', 'EntryNumber', 'LegalEntityId', 'LineNumber'],
  properties: {
    dataAreaId: 'Edm.String',
    EntryNumber: 'Edm.String',
    LegalEntityId: 'Edm.String',
    LineNumber: 'Edm.Decimal',
    AccountingCurrencyAmount: 'Edm.Decimal',
    AmountType: BudgetType,
    BudgetCode: 'Edm.String',
    BudgetModelId: 'Edm.String',
    Status: BudgetTransactionStatus,
    BudgetType: BudgetTransactionType,
    Comment: 'Edm.String',
    CurrencyCode: 'Edm.String',
    Date: 'Edm.DateTimeOffset',
    DimensionAccountStructure: 'Edm.String',
    DimensionDisplayValue: 'Edm.String',
    IncludeInCashFlowForecast: NoYes,
    OneTimeRevision: NoYes,
    Price: 'Edm.Decimal',
    Quantity: 'Edm.Decimal',
    ReasonCode: 'Edm.String',
    ReasonComment: 'Edm.String',
    TransactionCurrencyAmount: 'Edm.Decimal',
    LineWorkflowStatus: BudgetTransactionWorkflowStatus,
    DocumentWorkflowStatus: BudgetTransactionWorkflowStatus,
  },
};

export const GeneralJournalAccountEntries: EntityType = {
  set: 'GeneralJournalAccountEntries',
  keys: ['GeneralJournalAccountEntryRecId'],
  properties: {
    JournalNumber: 'Edm.String',
    Voucher: 'Edm.String',
    AccountingDate: 'Edm.DateTimeOffset',
    PostingLayer: CurrentOperationsTax,
    LedgerAccount: 'Edm.String',
    TransactionCurrencyCode: 'Edm.String',
    TransactionCurrencyCreditAmount: 'Edm.Decimal',
    TransactionCurrencyDebitAmount: 'Edm.Decimal',
    TransactionCurrencyAmount: 'Edm.Decimal',
    AccountingCurrencyAmount: 'Edm.Decimal',
    ReportingCurrencyAmount: 'Edm.Decimal',
    Description: 'Edm.String',
    Quantity: 'Edm.Decimal',
    PostingType: LedgerPostingType,
    JournalCategory: 'Edm.String',
    IsCorrection: NoYes,
    IsCredit: NoYes,
    AcknowledgementDate: 'Edm.DateTimeOffset',
    DocumentDate: 'Edm.DateTimeOffset',
    DocumentNumber: 'Edm.String',
    LedgerName: 'Edm.String',
    DataArea: 'Edm.String',
    GeneralJournalAccountEntryRecId: 'Edm.Int64',
    AccountDisplayValue: 'Edm.String',
    Account: 'Edm.String',
  },
};

export const PurchaseOrderHeadersV2: EntityType = {
  set: 'PurchaseOrderHeadersV2',
  keys: ['dataAreaId', 'PurchaseOrderNumber'],
  properties: {
    dataAreaId: 'Edm.String',
    PurchaseOrderNumber: 'Edm.String',
    PurchaseOrderName: 'Edm.String',
    OrderVendorAccountNumber: 'Edm.String',
    InvoiceVendorAccountNumber: 'Edm.String',
    CurrencyCode: 'Edm.String',
    PurchaseOrderStatus: PurchStatus,
    DocumentApprovalStatus: VersioningDocumentState,
    DefaultLedgerDimensionDisplayValue: 'Edm.String',
    AccountingDate: 'Edm.DateTimeOffset',
    RequestedDeliveryDate: 'Edm.DateTimeOffset',
    ReasonCode: 'Edm.String',
    ReasonComment: 'Edm.String',
  },
};

export const PurchaseOrderLinesV2: EntityType = {
  set: 'PurchaseOrderLinesV2',
  keys: ['dataAreaId', 'PurchaseOrderNumber', 'LineNumber'],
  properties: {
    dataAreaId: 'Edm.String',
    PurchaseOrderNumber: 'Edm.String',
    LineNumber: 'Edm.Int64',
    LineAmount: 'Edm.Decimal',
    OrderedPurchaseQuantity: 'Edm.Decimal',
    PurchasePrice: 'Edm.Decimal',
    PurchaseOrderLineStatus: PurchStatus,
    DefaultLedgerDimensionDisplayValue: 'Edm.String',
    MainAccountIdDisplayValue: 'Edm.String',
    RequestedDeliveryDate: 'Edm.DateTimeOffset',
    ConfirmedDeliveryDate: 'Edm.DateTimeOffset',
    ItemNumber: 'Edm.String',
    LineDescription: 'Edm.String',
    ProcurementProductCategoryName: 'Edm.String',
    IsDeleted: NoYes,
  },
};

/**
 * Exchange rates (CDM `Common/Currency/ExchangeRateCDSEntity`): one rate of a rate type for a currency pair,
 * valid from a date. The public entity set name is not in the CDM; closeloop reads it as configured.
 */
export const ExchangeRates: EntityType = {
  set: 'ExchangeRates',
  keys: ['ExchangeRateTypeName', 'FromCurrencyCode', 'ToCurrencyCode', 'ValidFrom'],
  properties: {
    ExchangeRateTypeName: 'Edm.String',
    FromCurrencyCode: 'Edm.String',
    ToCurrencyCode: 'Edm.String',
    ValidFrom: 'Edm.DateTimeOffset',
    ValidTo: 'Edm.DateTimeOffset',
    Rate: 'Edm.Decimal',
  },
};

export const DimensionLedgerAccountType = {
  enum: 'DimensionLedgerAccountType',
  // finance/general-ledger/main-account-types.md; the enum's name is not published.
  members: [
    'ProfitAndLoss',
    'Revenue',
    'Expense',
    'BalanceSheet',
    'Asset',
    'Liability',
    'Equity',
    'Total',
    'Reporting',
  ] as const,
};

/**
 * Main accounts of a chart of accounts (CDM `Finance/GeneralLedger/MainAccountEntity`, backing table
 * `MainAccount`): shared by the legal entities that use the chart, so not company specific. `ActiveFrom`,
 * `ActiveTo` and `IsSuspended` say from when to when it takes postings.
 */
export const MainAccounts: EntityType = {
  set: 'MainAccounts',
  keys: ['ChartOfAccounts', 'MainAccountId'],
  properties: {
    ChartOfAccounts: 'Edm.String',
    MainAccountId: 'Edm.String',
    Name: 'Edm.String',
    MainAccountType: DimensionLedgerAccountType,
    MainAccountCategory: 'Edm.String',
    ParentMainAccountId: 'Edm.String',
    IsSuspended: NoYes,
    DoNotAllowManualEntry: NoYes,
    ActiveFrom: 'Edm.DateTimeOffset',
    ActiveTo: 'Edm.DateTimeOffset',
    MainAccountRecId: 'Edm.Int64',
  },
};

/**
 * Values of the financial dimensions (CDM `Finance/FinancialDimensions/FinancialDimensionValueEntity`),
 * cost centers among them (`FinancialDimension eq 'CostCenter'`). A value with a `LegalEntityId` belongs to
 * that company only; one without is shared.
 */
export const FinancialDimensionValues: EntityType = {
  set: 'FinancialDimensionValues',
  keys: ['FinancialDimension', 'DimensionValue'],
  properties: {
    FinancialDimension: 'Edm.String',
    DimensionValue: 'Edm.String',
    LegalEntityId: 'Edm.String',
    Description: 'Edm.String',
    IsSuspended: NoYes,
    IsTotal: NoYes,
    IsBlockedForManualEntry: NoYes,
    GroupDimension: 'Edm.String',
    ActiveFrom: 'Edm.DateTimeOffset',
    ActiveTo: 'Edm.DateTimeOffset',
    Owner: 'Edm.String',
  },
};

/**
 * Published organization hierarchies (CDM `Common/GAB/OMOrganizationHierarchyPublishedV2Entity`, backing
 * table `OMHierarchyRelationship`): one row per child under its parent in a hierarchy, effective from
 * `validFrom` to `validTo`. Cost centers are operating units, so the cost-center hierarchy is one of these
 * (organization-administration/organizations-organizational-hierarchies.md); only published changes show.
 * The entity set name is not published; closeloop reads it as configured.
 */
export const OrganizationHierarchies: EntityType = {
  set: 'OrganizationHierarchiesPublishedV2',
  keys: ['Hierarchy', 'ChildOrganization', 'validFrom'],
  properties: {
    Hierarchy: 'Edm.String',
    HierarchyType: 'Edm.String',
    ChildOrganization: 'Edm.String',
    ChildOrganizationName: 'Edm.String',
    ParentOrganization: 'Edm.String',
    ParentOrganizationName: 'Edm.String',
    validFrom: 'Edm.DateTimeOffset',
    validTo: 'Edm.DateTimeOffset',
  },
};

const SEGMENT_NUMBERS = Array.from({ length: 11 }, (_x, i) => String(i + 1).padStart(2, '0'));

/**
 * Account structures (CDM Finance/GeneralLedger/LedgerAccountStructureEntity): each structure's segments,
 * SegmentName01 to SegmentName11, in order (the main account among them; configure-account-structures.md).
 */
export const AccountStructures: EntityType = {
  set: 'AccountStructures',
  keys: ['AccountStructureName'],
  properties: {
    AccountStructureName: 'Edm.String',
    Description: 'Edm.String',
    StructureType: 'Edm.String',
    Status: 'Edm.String',
    ...Object.fromEntries(SEGMENT_NUMBERS.map((n) => [`SegmentName${n}`, 'Edm.String' as const])),
  },
};

/**
 * Account structure allowed values (CDM LedgerAccountStructureConstraintEntity): one row per allowed-values
 * line of a structure, SegmentCriteria01 to SegmentCriteria11 the criteria of each segment as typed in the
 * grid ("400000..999999", "*;\" \"", "002").
 */
export const AccountStructureConstraints: EntityType = {
  set: 'AccountStructureConstraints',
  keys: ['AccountStructure', 'Position'],
  properties: {
    AccountStructure: 'Edm.String',
    ActiveFrom: 'Edm.String',
    ActiveTo: 'Edm.String',
    Position: 'Edm.Int32',
    DimensionHierarchy: 'Edm.String',
    Status: 'Edm.String',
    ...Object.fromEntries(SEGMENT_NUMBERS.map((n) => [`SegmentCriteria${n}`, 'Edm.String' as const])),
  },
};

/**
 * Projects (CDM ProjectManagementAndAccounting/ProjectEntity, "Projects"): a project of a company, its stage
 * in the project lifecycle (Created, Estimated, Scheduled, InProcess, Finished) and the project contract
 * that funds it.
 */
export const Projects: EntityType = {
  set: 'Projects',
  keys: ['dataAreaId', 'ProjectID'],
  properties: {
    dataAreaId: 'Edm.String',
    ProjectID: 'Edm.String',
    ProjectName: 'Edm.String',
    ProjectStage: 'Edm.String',
    ProjectGroup: 'Edm.String',
    ProjectContractID: 'Edm.String',
    ProjectedStartDate: 'Edm.DateTimeOffset',
    ProjectedEndDate: 'Edm.DateTimeOffset',
  },
};

/**
 * Grants (CDM ProjGrantV2Entity, "Project grants V2"): the award, its amount in the company's currency
 * (AwardedAmount) and its period of performance (ActualStartDate to ActualExpirationDate), with its status.
 */
export const ProjGrantsV2: EntityType = {
  set: 'ProjGrantsV2',
  keys: ['dataAreaId', 'GrantId'],
  properties: {
    dataAreaId: 'Edm.String',
    GrantId: 'Edm.String',
    GrantName: 'Edm.String',
    GrantStatus: 'Edm.String',
    AwardedAmount: 'Edm.Decimal',
    ActualAwardDate: 'Edm.DateTimeOffset',
    ActualStartDate: 'Edm.DateTimeOffset',
    ActualExpirationDate: 'Edm.DateTimeOffset',
    CustAccount: 'Edm.String',
  },
};

/**
 * Project funding sources (CDM ProjFundingSourceEntity): the sources a project contract is funded from; a
 * source of FundingType Grant names its grant (GrantId).
 */
export const ProjFundingSources: EntityType = {
  set: 'ProjFundingSources',
  keys: ['dataAreaId', 'ProjectContractID', 'FundingSourceId'],
  properties: {
    dataAreaId: 'Edm.String',
    ProjectContractID: 'Edm.String',
    FundingSourceId: 'Edm.String',
    FundingType: 'Edm.String',
    GrantId: 'Edm.String',
  },
};

export const ENTITIES = [
  BudgetRegisterEntryHeaders,
  BudgetRegisterEntryLines,
  BudgetRegisterEntries,
  GeneralJournalAccountEntries,
  PurchaseOrderHeadersV2,
  PurchaseOrderLinesV2,
  ExchangeRates,
  MainAccounts,
  FinancialDimensionValues,
  OrganizationHierarchies,
  AccountStructures,
  AccountStructureConstraints,
  Projects,
  ProjGrantsV2,
  ProjFundingSources,
] as const;
