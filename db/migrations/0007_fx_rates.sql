CREATE TABLE "fx_rates" (
	"rate_type" text NOT NULL,
	"from_currency" text NOT NULL,
	"to_currency" text NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"rate" numeric(28, 12) NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "fx_rates_rate_type_from_currency_to_currency_valid_from_pk" PRIMARY KEY("rate_type","from_currency","to_currency","valid_from")
);
--> statement-breakpoint
ALTER TABLE "legal_entities" ADD COLUMN "fx_rate_type" text DEFAULT 'average' NOT NULL;--> statement-breakpoint
ALTER TABLE "legal_entities" ADD COLUMN "fx_triangulation_currency" text DEFAULT 'USD' NOT NULL;