CREATE TABLE "projects" (
	"legal_entity" text NOT NULL,
	"code" text NOT NULL,
	"spec" jsonb NOT NULL,
	"status" text NOT NULL,
	"source" text NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "projects_legal_entity_code_pk" PRIMARY KEY("legal_entity","code")
);
--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_legal_entity_legal_entities_code_fk" FOREIGN KEY ("legal_entity") REFERENCES "public"."legal_entities"("code") ON DELETE no action ON UPDATE no action;