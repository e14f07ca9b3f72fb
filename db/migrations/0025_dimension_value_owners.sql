CREATE TABLE "dimension_value_owners" (
	"legal_entity" text NOT NULL,
	"dimension" text NOT NULL,
	"code" text NOT NULL,
	"principal" text NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	CONSTRAINT "dimension_value_owners_legal_entity_dimension_code_principal_valid_from_pk" PRIMARY KEY("legal_entity","dimension","code","principal","valid_from")
);
--> statement-breakpoint
ALTER TABLE "dimension_value_owners" ADD CONSTRAINT "dimension_value_owners_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;