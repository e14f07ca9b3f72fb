CREATE TABLE "erp_cutover_comparisons" (
	"cutover_id" uuid NOT NULL,
	"fiscal_year" integer NOT NULL,
	"compared_at" timestamp with time zone DEFAULT now() NOT NULL,
	"differences" jsonb NOT NULL,
	"totals" jsonb NOT NULL,
	CONSTRAINT "erp_cutover_comparisons_cutover_id_fiscal_year_pk" PRIMARY KEY("cutover_id","fiscal_year")
);
--> statement-breakpoint
CREATE TABLE "erp_cutovers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"legal_entity" text NOT NULL,
	"from_target" text NOT NULL,
	"to_target" text NOT NULL,
	"cutover_date" date NOT NULL,
	"parallel_periods" smallint NOT NULL,
	"parallel_until" date NOT NULL,
	"actuals_during_parallel" text NOT NULL,
	"conversion_sources" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" text DEFAULT 'scheduled' NOT NULL,
	"rollback_date" date,
	"created_by" text NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "erp_cutovers_window" CHECK ("erp_cutovers"."parallel_until" >= "erp_cutovers"."cutover_date"),
	CONSTRAINT "erp_cutovers_targets" CHECK ("erp_cutovers"."from_target" <> "erp_cutovers"."to_target")
);
--> statement-breakpoint
ALTER TABLE "erp_cutover_comparisons" ADD CONSTRAINT "erp_cutover_comparisons_cutover_id_erp_cutovers_id_fk" FOREIGN KEY ("cutover_id") REFERENCES "public"."erp_cutovers"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "erp_cutovers" ADD CONSTRAINT "erp_cutovers_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "erp_cutovers_entity" ON "erp_cutovers" USING btree ("legal_entity");