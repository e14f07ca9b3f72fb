ALTER TABLE "budget_transfers" ADD COLUMN "from_dimensions" jsonb;--> statement-breakpoint
ALTER TABLE "budget_transfers" ADD COLUMN "to_dimensions" jsonb;