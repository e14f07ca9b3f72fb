CREATE TABLE "control_budget_balances" (
	"legal_entity" text NOT NULL,
	"budget_key" text NOT NULL,
	"code" text NOT NULL,
	"key_values" jsonb NOT NULL,
	"period" text NOT NULL,
	"currency" text NOT NULL,
	"budget" numeric(24, 6) DEFAULT '0' NOT NULL,
	"reserved" numeric(24, 6) DEFAULT '0' NOT NULL,
	"committed" numeric(24, 6) DEFAULT '0' NOT NULL,
	"actual" numeric(24, 6) DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "control_budget_balances_legal_entity_budget_key_period_currency_pk" PRIMARY KEY("legal_entity","budget_key","period","currency")
);
--> statement-breakpoint
ALTER TABLE "consumption_lines" ADD COLUMN "dimensions" jsonb;--> statement-breakpoint
ALTER TABLE "funds_reservations" ADD COLUMN "dimensions" jsonb;--> statement-breakpoint
ALTER TABLE "funds_reservations" ADD COLUMN "holds" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "legal_entities" ADD COLUMN "control_budgets_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "control_budget_balances" ADD CONSTRAINT "control_budget_balances_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "control_budget_balances_code" ON "control_budget_balances" USING btree ("legal_entity","code","period");
