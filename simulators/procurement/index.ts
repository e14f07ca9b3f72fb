export {
  createProcurementSimulator,
  type ProcurementSimulator,
  type ProcurementSimulatorOptions,
} from './simulator';
