-- Budget and publication lines carry their dimensions as their entity's chart has them; account and cost
-- center become columns generated from them (budget control and cost-center owners still read those two).
ALTER TABLE "budget_lines" ADD COLUMN "dimensions" jsonb;--> statement-breakpoint
UPDATE "budget_lines" SET "dimensions" = jsonb_build_object('account', "account", 'costCenter', "cost_center");--> statement-breakpoint
ALTER TABLE "budget_lines" ALTER COLUMN "dimensions" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_lines" DROP COLUMN "account";--> statement-breakpoint
ALTER TABLE "budget_lines" ADD COLUMN "account" text GENERATED ALWAYS AS (dimensions ->> 'account') STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_lines" DROP COLUMN "cost_center";--> statement-breakpoint
ALTER TABLE "budget_lines" ADD COLUMN "cost_center" text GENERATED ALWAYS AS (dimensions ->> 'costCenter') STORED;--> statement-breakpoint
ALTER TABLE "publication_lines" ADD COLUMN "dimensions" jsonb;--> statement-breakpoint
UPDATE "publication_lines" SET "dimensions" = jsonb_build_object('account', "account", 'costCenter', "cost_center");--> statement-breakpoint
ALTER TABLE "publication_lines" ALTER COLUMN "dimensions" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "publication_lines" DROP COLUMN "account";--> statement-breakpoint
ALTER TABLE "publication_lines" ADD COLUMN "account" text GENERATED ALWAYS AS (dimensions ->> 'account') STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "publication_lines" DROP COLUMN "cost_center";--> statement-breakpoint
ALTER TABLE "publication_lines" ADD COLUMN "cost_center" text GENERATED ALWAYS AS (dimensions ->> 'costCenter') STORED;--> statement-breakpoint
-- Changes moved out of closed periods name their combination by its dimensions too.
UPDATE "budget_versions" SET "period_moves" = (
  SELECT coalesce(jsonb_agg((m - 'account' - 'costCenter')
           || jsonb_build_object('dimensions', jsonb_build_object('account', m -> 'account', 'costCenter', m -> 'costCenter'))
           ORDER BY ord), '[]'::jsonb)
    FROM jsonb_array_elements("period_moves") WITH ORDINALITY AS e(m, ord))
 WHERE jsonb_array_length("period_moves") > 0;
