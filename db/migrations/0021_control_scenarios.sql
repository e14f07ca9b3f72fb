CREATE TABLE "control_scenarios" (
	"legal_entity" text NOT NULL,
	"fiscal_year" integer NOT NULL,
	"scenario" text NOT NULL,
	"changed_by" text,
	"changed_at" timestamp with time zone,
	CONSTRAINT "control_scenarios_legal_entity_fiscal_year_pk" PRIMARY KEY("legal_entity","fiscal_year")
);
--> statement-breakpoint
ALTER TABLE "control_scenarios" ADD CONSTRAINT "control_scenarios_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;