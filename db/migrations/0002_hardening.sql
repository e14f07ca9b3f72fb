CREATE TABLE "budget_cycles" (
	"cycle_id" text PRIMARY KEY NOT NULL,
	"legal_entity" text NOT NULL,
	"fiscal_year" integer NOT NULL,
	"scenario" text NOT NULL,
	"version_number" integer NOT NULL,
	"revision" integer NOT NULL,
	"correlation_id" text NOT NULL,
	"started_by" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"closed_at" timestamp with time zone,
	"outcome" text,
	CONSTRAINT "budget_cycles_correlation_id_unique" UNIQUE("correlation_id"),
	CONSTRAINT "budget_cycles_revision" UNIQUE("legal_entity","fiscal_year","scenario","version_number","revision")
);
--> statement-breakpoint
CREATE TABLE "publication_targets" (
	"legal_entity" text NOT NULL,
	"target" text NOT NULL,
	"company" text NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	CONSTRAINT "publication_targets_legal_entity_target_pk" PRIMARY KEY("legal_entity","target")
);
--> statement-breakpoint
CREATE TABLE "source_exceptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source_system" text NOT NULL,
	"legal_entity" text NOT NULL,
	"stream" text NOT NULL,
	"record_key" text NOT NULL,
	"payload" jsonb NOT NULL,
	"error_code" text NOT NULL,
	"error_message" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"correlation_id" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	CONSTRAINT "source_exceptions_record" UNIQUE("source_system","stream","record_key")
);
--> statement-breakpoint
ALTER TABLE "sync_watermarks" ADD COLUMN "scope" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "control_balances" DROP CONSTRAINT "control_balances_legal_entity_account_cost_center_period_pk";--> statement-breakpoint
ALTER TABLE "sync_watermarks" DROP CONSTRAINT "sync_watermarks_source_system_legal_entity_stream_pk";--> statement-breakpoint
ALTER TABLE "control_balances" ADD CONSTRAINT "control_balances_legal_entity_account_cost_center_period_currency_pk" PRIMARY KEY("legal_entity","account","cost_center","period","currency");--> statement-breakpoint
ALTER TABLE "sync_watermarks" ADD CONSTRAINT "sync_watermarks_source_system_legal_entity_stream_scope_pk" PRIMARY KEY("source_system","legal_entity","stream","scope");--> statement-breakpoint
ALTER TABLE "audit_log" ADD COLUMN "stream" text DEFAULT 'legacy' NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_versions" ADD COLUMN "superseded_by" uuid;--> statement-breakpoint
ALTER TABLE "commitment_lines" ADD COLUMN "replaced" jsonb;--> statement-breakpoint
ALTER TABLE "publications" ADD COLUMN "settings" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "budget_cycles" ADD CONSTRAINT "budget_cycles_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publication_targets" ADD CONSTRAINT "publication_targets_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "budget_cycles_one_open" ON "budget_cycles" USING btree ("legal_entity","fiscal_year","scenario","version_number") WHERE closed_at is null;--> statement-breakpoint
CREATE INDEX "source_exceptions_open" ON "source_exceptions" USING btree ("legal_entity","stream","status");--> statement-breakpoint
CREATE INDEX "audit_log_stream" ON "audit_log" USING btree ("stream","seq");--> statement-breakpoint
-- Each entity's budget target moves from its own columns to a row of publication_targets.
INSERT INTO "publication_targets" ("legal_entity", "target", "company", "settings")
  SELECT "code", "erp_system", "erp_company",
         jsonb_build_object('budgetModel', "erp_budget_model", 'budgetCode', "erp_budget_code")
    FROM "legal_entities"
  ON CONFLICT DO NOTHING;--> statement-breakpoint
UPDATE "publications" p SET "settings" = t."settings"
  FROM "budget_versions" v, "publication_targets" t
 WHERE p."version_id" = v."id" AND t."legal_entity" = v."legal_entity" AND t."target" = p."target";--> statement-breakpoint
ALTER TABLE "legal_entities" DROP COLUMN "erp_budget_model";--> statement-breakpoint
ALTER TABLE "legal_entities" DROP COLUMN "erp_budget_code";