CREATE TABLE "entity_period_locks" (
	"legal_entity" text NOT NULL,
	"period" text NOT NULL,
	"locked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_by" text NOT NULL,
	"correlation_id" text NOT NULL,
	CONSTRAINT "entity_period_locks_legal_entity_period_pk" PRIMARY KEY("legal_entity","period")
);
