export {
  createD365Simulator,
  type D365Simulator,
  type D365SimulatorOptions,
  type LedgerEntrySeed,
  type PurchaseOrderSeed,
  type VendorInvoicePosting,
} from './simulator';
