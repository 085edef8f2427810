import { motion } from "motion/react";
import { NavLink, Outlet, useLocation } from "react-router";
import { useAuth } from "../auth/AuthProvider.tsx";
import { WalletButton } from "../wallet/WalletButton.tsx";
import { PaymentModal } from "../x402/PaymentModal.tsx";
import { Button } from "./ui.tsx";

const link = ({ isActive }: { isActive: boolean }) =>
  `rounded px-2 py-1 ${isActive ? "bg-blue-50 font-semibold text-blue-800" : "text-slate-800 hover:bg-slate-100"}`;

export function Layout() {
  const { user, signOut } = useAuth();
  const location = useLocation();
  return (
    <div className="min-h-screen">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:p-2">
        Skip to content
      </a>
      <header className="border-b border-slate-200 bg-white">
        <div className="mx-auto flex max-w-6xl flex-wrap items-center justify-between gap-2 px-4 py-3">
          <NavLink to="/" className="text-xl font-bold text-blue-800">
            robo402
          </NavLink>
          <nav aria-label="Main" className="flex flex-wrap items-center gap-1 text-sm sm:text-base">
            <NavLink to="/robots" className={link}>
              Robots
            </NavLink>
            {user && (
              <NavLink to="/dashboard" end className={link}>
                Dashboard
              </NavLink>
            )}
            {(user?.role === "robot_owner" || user?.role === "admin") && (
              <NavLink to="/dashboard/robots" className={link}>
                My robots
              </NavLink>
            )}
            {user?.role === "admin" && (
              <NavLink to="/admin" className={link}>
                Admin
              </NavLink>
            )}
            {user ? (
              <Button tone="secondary" className="px-2 py-1 text-sm" onClick={signOut}>
                Sign out {user.email}
              </Button>
            ) : (
              <>
                <NavLink to="/login" className={link}>
                  Sign in
                </NavLink>
                <NavLink to="/register" className={link}>
                  Register
                </NavLink>
              </>
            )}
          </nav>
          <WalletButton />
        </div>
      </header>
      <motion.main
        id="main"
        key={location.pathname}
        initial={{ opacity: 0, y: 6 }}
        animate={{ opacity: 1, y: 0 }}
        transition={{ duration: 0.15 }}
        className="mx-auto max-w-6xl px-4 py-6"
      >
        <Outlet />
      </motion.main>
      <PaymentModal />
    </div>
  );
}
