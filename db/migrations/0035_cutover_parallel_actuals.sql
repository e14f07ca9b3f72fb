CREATE TABLE "cutover_parallel_actuals" (
	"cutover_id" uuid NOT NULL,
	"record_key" text NOT NULL,
	"source_system" text NOT NULL,
	"legal_entity" text NOT NULL,
	"posting_date" date NOT NULL,
	"dimensions" jsonb,
	"period" text,
	"amount" numeric(24, 6),
	"currency" text,
	"error" text,
	"payload" jsonb NOT NULL,
	"correlation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cutover_parallel_actuals_cutover_id_record_key_pk" PRIMARY KEY("cutover_id","record_key")
);
--> statement-breakpoint
ALTER TABLE "erp_cutover_comparisons" ADD COLUMN "actual_differences" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "erp_cutover_comparisons" ADD COLUMN "actual_totals" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "cutover_parallel_actuals" ADD CONSTRAINT "cutover_parallel_actuals_cutover_id_erp_cutovers_id_fk" FOREIGN KEY ("cutover_id") REFERENCES "public"."erp_cutovers"("id") ON DELETE no action ON UPDATE no action;