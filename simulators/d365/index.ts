export {
  createD365Simulator,
  type D365Simulator,
  type BusinessEventEndpoint,
  type D365SimulatorOptions,
  type DimensionValueSeed,
  type ExchangeRateSeed,
  type HierarchyChangeSeed,
  type MainAccountSeed,
  type SentBusinessEvent,
  type LedgerEntrySeed,
  type PurchaseOrderSeed,
  type VendorInvoicePosting,
} from './simulator';
