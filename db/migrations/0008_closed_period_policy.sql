ALTER TABLE "actual_lines" ADD COLUMN "routed_from_period" text;--> statement-breakpoint
ALTER TABLE "legal_entities" ADD COLUMN "closed_period_policy" text DEFAULT 'dead_letter' NOT NULL;