import { SUBSIDIARIES, UK_CALENDAR } from '../../db/seed/subsidiaries';
import { SUBSIDIARY_BOOKS } from '../../simulators/scenario/subsidiaries';

/**
 * The simulators hold the subsidiaries' books as the ERP keeps them, written out on their own (a simulator
 * never reads our store); this keeps them in step with the reference data closeloop is seeded with.
 */
test("the simulators' subsidiary books agree with the seeded reference data", () => {
  expect(
    SUBSIDIARY_BOOKS.map((b) => ({
      code: b.code,
      erpCompany: b.erpCompany,
      functionalCurrency: b.functionalCurrency,
      aprilCalendar: b.firstMonth === 4,
      costCenters: b.costCenters,
    })),
  ).toEqual(
    SUBSIDIARIES.map((s) => ({
      code: s.code,
      erpCompany: s.erpCompany,
      functionalCurrency: s.functionalCurrency,
      aprilCalendar: s.fiscalCalendar === UK_CALENDAR,
      costCenters: s.costCenters,
    })),
  );
});
