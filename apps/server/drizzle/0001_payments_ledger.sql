CREATE TABLE "payments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"network" text NOT NULL,
	"scheme" text NOT NULL,
	"asset" text NOT NULL,
	"payer" text NOT NULL,
	"pay_to" text NOT NULL,
	"amount" text NOT NULL,
	"nonce" text NOT NULL,
	"resource" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"tx_hash" text,
	"session_id" uuid,
	"payload" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "access_sessions" ADD COLUMN "pending" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "access_sessions" ADD COLUMN "token_hash" text;--> statement-breakpoint
ALTER TABLE "access_sessions" ADD COLUMN "payment_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "payments_authorization" ON "payments" USING btree ("network","asset","nonce");--> statement-breakpoint
CREATE INDEX "payments_open" ON "payments" USING btree ("status") WHERE "payments"."status" in ('verified', 'settling', 'settled');--> statement-breakpoint
CREATE UNIQUE INDEX "access_sessions_token" ON "access_sessions" USING btree ("token_hash");