export {
  type AnaplanSimulator,
  type AnaplanSimulatorOptions,
  type BudgetVersionSeed,
  createAnaplanSimulator,
  type ForecastVersion,
} from './simulator';
