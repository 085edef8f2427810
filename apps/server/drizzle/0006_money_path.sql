CREATE TABLE "spent_transactions" (
	"network" text NOT NULL,
	"tx_hash" text NOT NULL,
	"paid" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "spent_transactions_network_tx_hash_pk" PRIMARY KEY("network","tx_hash")
);
--> statement-breakpoint
CREATE TABLE "unmatched_transfers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"network" text NOT NULL,
	"tx_hash" text NOT NULL,
	"asset" text NOT NULL,
	"sender" text NOT NULL,
	"recipient" text NOT NULL,
	"amount" text NOT NULL,
	"code" text NOT NULL,
	"reason" text NOT NULL,
	"payment_session_id" uuid,
	"robot_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"refunded_at" timestamp with time zone,
	"refund_tx" text
);
--> statement-breakpoint
DROP INDEX "payments_authorization";--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "valid_before" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "recovery_claimed_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "token_version" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "unmatched_transfers" ADD CONSTRAINT "unmatched_transfers_payment_session_id_payment_sessions_id_fk" FOREIGN KEY ("payment_session_id") REFERENCES "public"."payment_sessions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "unmatched_transfers" ADD CONSTRAINT "unmatched_transfers_robot_id_robots_id_fk" FOREIGN KEY ("robot_id") REFERENCES "public"."robots"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "unmatched_transfers_tx" ON "unmatched_transfers" USING btree ("network","tx_hash");--> statement-breakpoint
CREATE INDEX "unmatched_transfers_robot" ON "unmatched_transfers" USING btree ("robot_id");--> statement-breakpoint
CREATE UNIQUE INDEX "payments_authorization" ON "payments" USING btree ("network","asset","payer","nonce");--> statement-breakpoint
INSERT INTO "spent_transactions" ("network", "tx_hash", "paid")
  SELECT "network", "tx_hash", 'payment:' || "id" FROM "payments" WHERE "tx_hash" IS NOT NULL
  ON CONFLICT DO NOTHING;--> statement-breakpoint
INSERT INTO "spent_transactions" ("network", "tx_hash", "paid")
  SELECT "network", "tx_signature", 'session:' || "id" FROM "payment_sessions" WHERE "tx_signature" IS NOT NULL
  ON CONFLICT DO NOTHING;
