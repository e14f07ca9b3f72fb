CREATE TABLE "control_budgets" (
	"legal_entity" text NOT NULL,
	"code" text NOT NULL,
	"spec" jsonb NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "control_budgets_legal_entity_code_pk" PRIMARY KEY("legal_entity","code")
);
--> statement-breakpoint
ALTER TABLE "control_budgets" ADD CONSTRAINT "control_budgets_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;