import { createBrowserRouter } from "react-router";
import { Layout } from "./components/Layout.tsx";
import { AdminPage } from "./pages/AdminPage.tsx";
import { LoginPage, RegisterPage } from "./pages/AuthPages.tsx";
import { DashboardPage } from "./pages/DashboardPage.tsx";
import { HomePage } from "./pages/HomePage.tsx";
import { NotFoundPage } from "./pages/NotFoundPage.tsx";
import { OwnerRobotsPage } from "./pages/OwnerRobotsPage.tsx";
import { RobotFormPage } from "./pages/RobotFormPage.tsx";
import { RobotPage } from "./pages/RobotPage.tsx";
import { RobotsPage } from "./pages/RobotsPage.tsx";

export const router = createBrowserRouter([
  {
    element: <Layout />,
    children: [
      { path: "/", element: <HomePage /> },
      { path: "/robots", element: <RobotsPage /> },
      { path: "/robots/:id", element: <RobotPage /> },
      { path: "/dashboard", element: <DashboardPage /> },
      { path: "/dashboard/robots", element: <OwnerRobotsPage /> },
      { path: "/dashboard/robots/new", element: <RobotFormPage /> },
      { path: "/dashboard/robots/:id", element: <RobotFormPage /> },
      { path: "/admin", element: <AdminPage /> },
      { path: "/login", element: <LoginPage /> },
      { path: "/register", element: <RegisterPage /> },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);
