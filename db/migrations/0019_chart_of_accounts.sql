CREATE TABLE "charts" (
	"legal_entity" text NOT NULL,
	"version" integer NOT NULL,
	"valid_from" date NOT NULL,
	"spec" jsonb NOT NULL,
	"changed_by" text NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "charts_legal_entity_version_pk" PRIMARY KEY("legal_entity","version"),
	CONSTRAINT "charts_valid_from" UNIQUE("legal_entity","valid_from")
);
--> statement-breakpoint
CREATE TABLE "cross_validation_rules" (
	"legal_entity" text NOT NULL,
	"code" text NOT NULL,
	"description" text NOT NULL,
	"condition" jsonb NOT NULL,
	"validation" jsonb NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"origin" text NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cross_validation_rules_legal_entity_code_pk" PRIMARY KEY("legal_entity","code")
);
--> statement-breakpoint
CREATE TABLE "dimension_hierarchy" (
	"legal_entity" text NOT NULL,
	"dimension" text NOT NULL,
	"code" text NOT NULL,
	"parent" text,
	"name" text,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"change_id" uuid,
	CONSTRAINT "dimension_hierarchy_legal_entity_dimension_code_valid_from_pk" PRIMARY KEY("legal_entity","dimension","code","valid_from")
);
--> statement-breakpoint
CREATE TABLE "dimension_values" (
	"legal_entity" text NOT NULL,
	"dimension" text NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"source" text NOT NULL,
	CONSTRAINT "dimension_values_legal_entity_dimension_code_pk" PRIMARY KEY("legal_entity","dimension","code")
);
--> statement-breakpoint
DROP INDEX "master_data_changes_identity";--> statement-breakpoint
ALTER TABLE "master_data_changes" ADD COLUMN "dimension" text;--> statement-breakpoint
-- Every change asked for before hierarchies were per dimension moved a cost center.
UPDATE "master_data_changes" SET "dimension" = 'costCenter', "kind" = 'parent';--> statement-breakpoint
ALTER TABLE "master_data_changes" ALTER COLUMN "dimension" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "charts" ADD CONSTRAINT "charts_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cross_validation_rules" ADD CONSTRAINT "cross_validation_rules_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dimension_hierarchy" ADD CONSTRAINT "dimension_hierarchy_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dimension_values" ADD CONSTRAINT "dimension_values_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "master_data_changes_identity" ON "master_data_changes" USING btree ("legal_entity","kind","dimension","code",coalesce("to_value", ''),"effective_from");--> statement-breakpoint
-- The cost center hierarchy becomes the cost center dimension's, every row kept as it was.
INSERT INTO "dimension_hierarchy" ("legal_entity", "dimension", "code", "parent", "valid_from", "valid_to", "change_id")
SELECT "legal_entity", 'costCenter', "cost_center", "parent", "valid_from", "valid_to", "change_id" FROM "cost_center_hierarchy";--> statement-breakpoint
DROP TABLE "cost_center_hierarchy" CASCADE;--> statement-breakpoint
-- Each entity gets the chart it has always booked on: account and cost center, required, from its ERP.
INSERT INTO "charts" ("legal_entity", "version", "valid_from", "spec", "changed_by", "reason")
SELECT "code", 1, '1900-01-01',
       jsonb_build_object('dimensions', jsonb_build_array(
         jsonb_build_object('code', 'account', 'kind', 'canonical', 'label', 'Main account', 'required', true, 'valuesFrom', "erp_system", 'balancing', false),
         jsonb_build_object('code', 'costCenter', 'kind', 'canonical', 'label', 'Cost center', 'required', true, 'valuesFrom', "erp_system", 'balancing', false))),
       'closeloop', 'charts become data (migration 0019)'
  FROM "legal_entities";
