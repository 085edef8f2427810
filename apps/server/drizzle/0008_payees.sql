-- A robot's payees become one map by chain family; its EVM wallet and Solana address move into it.
ALTER TABLE "robots" ADD COLUMN "payees" jsonb;--> statement-breakpoint
UPDATE "robots" SET "payees" = jsonb_strip_nulls(jsonb_build_object('evm', "wallet_address", 'svm', "solana_address"));--> statement-breakpoint
ALTER TABLE "robots" ALTER COLUMN "payees" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "robots" DROP COLUMN "wallet_address";--> statement-breakpoint
ALTER TABLE "robots" DROP COLUMN "solana_address";
