CREATE TABLE "publication_lines" (
	"publication_id" uuid NOT NULL,
	"line_no" integer NOT NULL,
	"account" text NOT NULL,
	"cost_center" text NOT NULL,
	"period" text NOT NULL,
	"amount" numeric(24, 6) NOT NULL,
	"currency" text NOT NULL,
	CONSTRAINT "publication_lines_publication_id_line_no_pk" PRIMARY KEY("publication_id","line_no")
);
--> statement-breakpoint
ALTER TABLE "budget_versions" ADD COLUMN "period_moves" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "publications" ADD COLUMN "basis" text DEFAULT 'full' NOT NULL;--> statement-breakpoint
ALTER TABLE "publications" ADD COLUMN "purpose" text DEFAULT 'original' NOT NULL;--> statement-breakpoint
ALTER TABLE "publications" ADD COLUMN "line_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "publication_lines" ADD CONSTRAINT "publication_lines_publication_id_publications_id_fk" FOREIGN KEY ("publication_id") REFERENCES "public"."publications"("id") ON DELETE no action ON UPDATE no action;
--> statement-breakpoint
-- Publications planned before revisions published their differences posted ranges of their version's lines:
-- those lines become the publications' own, under the same numbers, so every chunk's range still names them.
INSERT INTO "publication_lines" ("publication_id", "line_no", "account", "cost_center", "period", "amount", "currency")
SELECT p."id", l."line_no", l."account", l."cost_center", l."period", l."amount", l."currency"
  FROM "publications" p
  JOIN "budget_lines" l ON l."version_id" = p."version_id"
 WHERE EXISTS (SELECT 1 FROM "publication_chunks" c
                WHERE c."publication_id" = p."id" AND l."line_no" BETWEEN c."first_line_no" AND c."last_line_no");
--> statement-breakpoint
UPDATE "publications" p SET "line_count" = (SELECT count(*) FROM "publication_lines" l WHERE l."publication_id" = p."id");
