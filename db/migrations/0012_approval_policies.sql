CREATE TABLE "approval_policies" (
	"legal_entity" text NOT NULL,
	"revision" integer NOT NULL,
	"spec" jsonb NOT NULL,
	"changed_by" text NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "approval_policies_legal_entity_revision_pk" PRIMARY KEY("legal_entity","revision")
);
--> statement-breakpoint
CREATE TABLE "cost_center_owners" (
	"cost_center" text NOT NULL,
	"principal" text NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	CONSTRAINT "cost_center_owners_cost_center_principal_valid_from_pk" PRIMARY KEY("cost_center","principal","valid_from")
);
--> statement-breakpoint
ALTER TABLE "approval_policies" ADD CONSTRAINT "approval_policies_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "cost_center_owners" ADD CONSTRAINT "cost_center_owners_cost_center_cost_centers_code_fk" FOREIGN KEY ("cost_center") REFERENCES "public"."cost_centers"("code") ON DELETE no action ON UPDATE no action;