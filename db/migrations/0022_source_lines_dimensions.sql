ALTER TABLE "actual_lines" ADD COLUMN "dimensions" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "commitment_lines" ADD COLUMN "dimensions" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
-- Lines stored before they kept their dimensions were kept on the account and cost center alone.
UPDATE "actual_lines" SET "dimensions" = jsonb_build_object('account', "account", 'costCenter', "cost_center") WHERE "dimensions" = '{}'::jsonb;--> statement-breakpoint
UPDATE "commitment_lines" SET "dimensions" = jsonb_build_object('account', "account", 'costCenter', "cost_center") WHERE "dimensions" = '{}'::jsonb;
