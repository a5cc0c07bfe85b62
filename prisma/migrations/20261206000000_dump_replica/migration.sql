-- AlterTable
ALTER TABLE "MemoryDump" ADD COLUMN     "replica" TEXT;
