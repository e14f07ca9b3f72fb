CREATE TABLE "accounts" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date
);
--> statement-breakpoint
CREATE TABLE "actual_lines" (
	"dedupe_key" text PRIMARY KEY NOT NULL,
	"source_system" text NOT NULL,
	"document_id" text NOT NULL,
	"line_no" integer NOT NULL,
	"revision" integer NOT NULL,
	"legal_entity" text NOT NULL,
	"account" text NOT NULL,
	"cost_center" text NOT NULL,
	"period" text NOT NULL,
	"posting_date" date NOT NULL,
	"amount" numeric(24, 6) NOT NULL,
	"currency" text NOT NULL,
	"description" text,
	"correlation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"correlation_id" text NOT NULL,
	"event_key" text NOT NULL,
	"details" jsonb NOT NULL,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "audit_log_event_key_unique" UNIQUE("event_key")
);
--> statement-breakpoint
CREATE TABLE "budget_lines" (
	"version_id" uuid NOT NULL,
	"line_no" integer NOT NULL,
	"account" text NOT NULL,
	"cost_center" text NOT NULL,
	"period" text NOT NULL,
	"amount" numeric(24, 6) NOT NULL,
	"currency" text NOT NULL,
	CONSTRAINT "budget_lines_version_id_line_no_pk" PRIMARY KEY("version_id","line_no")
);
--> statement-breakpoint
CREATE TABLE "budget_versions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"legal_entity" text NOT NULL,
	"fiscal_year" integer NOT NULL,
	"scenario" text NOT NULL,
	"version_number" integer NOT NULL,
	"currency" text NOT NULL,
	"source_system" text NOT NULL,
	"status" text NOT NULL,
	"content_hash" text NOT NULL,
	"line_count" integer NOT NULL,
	"total_amount" numeric(24, 6) NOT NULL,
	"validation_issues" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"submitted_by" text NOT NULL,
	"correlation_id" text NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"decision_comment" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"activated_at" timestamp with time zone,
	CONSTRAINT "budget_versions_identity" UNIQUE("legal_entity","fiscal_year","scenario","version_number")
);
--> statement-breakpoint
CREATE TABLE "commitment_lines" (
	"source_system" text NOT NULL,
	"document_id" text NOT NULL,
	"line_no" integer NOT NULL,
	"revision" integer NOT NULL,
	"legal_entity" text NOT NULL,
	"account" text NOT NULL,
	"cost_center" text NOT NULL,
	"period" text NOT NULL,
	"open_amount" numeric(24, 6) NOT NULL,
	"currency" text NOT NULL,
	"correlation_id" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "commitment_lines_source_system_document_id_line_no_pk" PRIMARY KEY("source_system","document_id","line_no")
);
--> statement-breakpoint
CREATE TABLE "control_balances" (
	"legal_entity" text NOT NULL,
	"account" text NOT NULL,
	"cost_center" text NOT NULL,
	"period" text NOT NULL,
	"currency" text NOT NULL,
	"budget" numeric(24, 6) DEFAULT '0' NOT NULL,
	"reserved" numeric(24, 6) DEFAULT '0' NOT NULL,
	"committed" numeric(24, 6) DEFAULT '0' NOT NULL,
	"actual" numeric(24, 6) DEFAULT '0' NOT NULL,
	"version_id" uuid,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "control_balances_legal_entity_account_cost_center_period_pk" PRIMARY KEY("legal_entity","account","cost_center","period")
);
--> statement-breakpoint
CREATE TABLE "cost_centers" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"legal_entity" text NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date
);
--> statement-breakpoint
CREATE TABLE "dimension_mappings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"erp_system" text NOT NULL,
	"dimension" text NOT NULL,
	"canonical_code" text NOT NULL,
	"erp_value" text NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	CONSTRAINT "dimension_mappings_identity" UNIQUE("erp_system","dimension","canonical_code","valid_from")
);
--> statement-breakpoint
CREATE TABLE "fiscal_periods" (
	"calendar" text NOT NULL,
	"period" text NOT NULL,
	"fiscal_year" integer NOT NULL,
	"period_number" smallint NOT NULL,
	"start_date" date NOT NULL,
	"end_date" date NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	CONSTRAINT "fiscal_periods_calendar_period_pk" PRIMARY KEY("calendar","period")
);
--> statement-breakpoint
CREATE TABLE "forecast_lines" (
	"forecast_key" text NOT NULL,
	"account" text NOT NULL,
	"cost_center" text NOT NULL,
	"period" text NOT NULL,
	"basis" text NOT NULL,
	"amount" numeric(24, 6) NOT NULL,
	"actual" numeric(24, 6) NOT NULL,
	"committed" numeric(24, 6) NOT NULL,
	"remaining_budget" numeric(24, 6) NOT NULL,
	"currency" text NOT NULL,
	CONSTRAINT "forecast_lines_forecast_key_account_cost_center_period_pk" PRIMARY KEY("forecast_key","account","cost_center","period")
);
--> statement-breakpoint
CREATE TABLE "forecasts" (
	"forecast_key" text PRIMARY KEY NOT NULL,
	"version_id" uuid NOT NULL,
	"as_of_period" text NOT NULL,
	"version_name" text NOT NULL,
	"currency" text NOT NULL,
	"total" numeric(24, 6) NOT NULL,
	"status" text NOT NULL,
	"correlation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "legal_entities" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"functional_currency" text NOT NULL,
	"fiscal_calendar" text NOT NULL,
	"region" text NOT NULL,
	"erp_system" text NOT NULL,
	"erp_company" text NOT NULL,
	"erp_budget_model" text NOT NULL,
	"erp_budget_code" text NOT NULL,
	"planning_system" text NOT NULL,
	"control_level" text NOT NULL,
	"tolerance_percent" numeric(5, 2) DEFAULT '0' NOT NULL,
	"active" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "publication_chunks" (
	"publication_id" uuid NOT NULL,
	"chunk_index" integer NOT NULL,
	"idempotency_key" text NOT NULL,
	"first_line_no" integer NOT NULL,
	"last_line_no" integer NOT NULL,
	"line_count" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"document_number" text,
	"reversal_document_number" text,
	"posted_at" timestamp with time zone,
	"reversed_at" timestamp with time zone,
	CONSTRAINT "publication_chunks_publication_id_chunk_index_pk" PRIMARY KEY("publication_id","chunk_index"),
	CONSTRAINT "publication_chunks_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "publications" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"version_id" uuid NOT NULL,
	"target" text NOT NULL,
	"revision" integer NOT NULL,
	"erp_company" text NOT NULL,
	"status" text NOT NULL,
	"chunk_size" integer NOT NULL,
	"chunk_count" integer NOT NULL,
	"correlation_id" text NOT NULL,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "publications_identity" UNIQUE("version_id","target","revision")
);
--> statement-breakpoint
CREATE TABLE "reconciliation_exceptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"run_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"period" text,
	"account" text,
	"details" jsonb NOT NULL,
	"correlation_id" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconciliation_results" (
	"run_id" uuid NOT NULL,
	"period" text NOT NULL,
	"account" text NOT NULL,
	"source_amount" numeric(24, 6) NOT NULL,
	"target_amount" numeric(24, 6) NOT NULL,
	"difference" numeric(24, 6) NOT NULL,
	"currency" text NOT NULL,
	"status" text NOT NULL,
	CONSTRAINT "reconciliation_results_run_id_period_account_pk" PRIMARY KEY("run_id","period","account")
);
--> statement-breakpoint
CREATE TABLE "reconciliation_runs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"version_id" uuid NOT NULL,
	"target" text NOT NULL,
	"legal_entity" text NOT NULL,
	"currency" text NOT NULL,
	"source_total" numeric(24, 6) NOT NULL,
	"target_total" numeric(24, 6) NOT NULL,
	"matched_count" integer NOT NULL,
	"mismatched_count" integer NOT NULL,
	"exception_count" integer NOT NULL,
	"correlation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reconciliation_runs_identity" UNIQUE("version_id","target")
);
--> statement-breakpoint
CREATE TABLE "sync_watermarks" (
	"source_system" text NOT NULL,
	"legal_entity" text NOT NULL,
	"stream" text NOT NULL,
	"watermark" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sync_watermarks_source_system_legal_entity_stream_pk" PRIMARY KEY("source_system","legal_entity","stream")
);
--> statement-breakpoint
ALTER TABLE "budget_lines" ADD CONSTRAINT "budget_lines_version_id_budget_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."budget_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "budget_versions" ADD CONSTRAINT "budget_versions_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_balances" ADD CONSTRAINT "control_balances_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "control_balances" ADD CONSTRAINT "control_balances_version_id_budget_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."budget_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cost_centers" ADD CONSTRAINT "cost_centers_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "forecast_lines" ADD CONSTRAINT "forecast_lines_forecast_key_forecasts_forecast_key_fk" FOREIGN KEY ("forecast_key") REFERENCES "public"."forecasts"("forecast_key") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "forecasts" ADD CONSTRAINT "forecasts_version_id_budget_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."budget_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publication_chunks" ADD CONSTRAINT "publication_chunks_publication_id_publications_id_fk" FOREIGN KEY ("publication_id") REFERENCES "public"."publications"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "publications" ADD CONSTRAINT "publications_version_id_budget_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."budget_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_exceptions" ADD CONSTRAINT "reconciliation_exceptions_run_id_reconciliation_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."reconciliation_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_results" ADD CONSTRAINT "reconciliation_results_run_id_reconciliation_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."reconciliation_runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_runs" ADD CONSTRAINT "reconciliation_runs_version_id_budget_versions_id_fk" FOREIGN KEY ("version_id") REFERENCES "public"."budget_versions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "actual_lines_balance" ON "actual_lines" USING btree ("legal_entity","account","cost_center","period");--> statement-breakpoint
CREATE INDEX "audit_log_entity" ON "audit_log" USING btree ("entity_type","entity_id");--> statement-breakpoint
CREATE INDEX "audit_log_correlation" ON "audit_log" USING btree ("correlation_id");--> statement-breakpoint
CREATE INDEX "fiscal_periods_year" ON "fiscal_periods" USING btree ("calendar","fiscal_year");