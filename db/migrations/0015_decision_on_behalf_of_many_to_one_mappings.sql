ALTER TABLE "dimension_mappings" DROP CONSTRAINT "dimension_mappings_identity";--> statement-breakpoint
ALTER TABLE "budget_versions" ADD COLUMN "decided_on_behalf_of" text;--> statement-breakpoint
ALTER TABLE "dimension_mappings" ADD CONSTRAINT "dimension_mappings_identity" UNIQUE("erp_system","dimension","canonical_code","erp_value","valid_from");