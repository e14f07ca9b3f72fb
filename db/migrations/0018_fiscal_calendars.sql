CREATE TABLE "fiscal_calendars" (
	"code" text PRIMARY KEY NOT NULL,
	"spec" jsonb NOT NULL,
	"changed_by" text NOT NULL,
	"reason" text NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fiscal_periods" ADD COLUMN "kind" text DEFAULT 'regular' NOT NULL;--> statement-breakpoint
ALTER TABLE "fiscal_periods" ADD COLUMN "quarter" smallint;--> statement-breakpoint
-- The periods defined before calendars were data are twelve calendar months a year: three a quarter.
UPDATE "fiscal_periods" SET "quarter" = least(4, ("period_number" - 1) / 3 + 1);--> statement-breakpoint
ALTER TABLE "fiscal_periods" ALTER COLUMN "quarter" SET NOT NULL;--> statement-breakpoint
-- Each calendar in use becomes data: calendar months starting in the month its first period starts in.
INSERT INTO "fiscal_calendars" ("code", "spec", "changed_by", "reason")
SELECT DISTINCT ON ("calendar") "calendar",
       jsonb_build_object('kind', 'monthly', 'firstMonth', extract(month from "start_date")::int, 'adjustmentPeriods', 0),
       'closeloop', 'calendars become data (migration 0018)'
  FROM "fiscal_periods" WHERE "period_number" = 1
 ORDER BY "calendar", "fiscal_year";